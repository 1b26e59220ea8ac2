"""`python -m qvr` is the `qvr` command (see `qvr.cli`)."""
import sys

from .cli import main

sys.exit(main())
