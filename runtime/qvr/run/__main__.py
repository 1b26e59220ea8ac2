"""``python -m qvr.run FILE ...``: `qvr run` without the rest of the CLI."""
import sys

from .command import main

sys.exit(main())
