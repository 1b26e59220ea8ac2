"""`python -m qvr` is the `qvr` command (see `qvr.cli`)."""
import sys

try:
    from .cli import main

    status = main()
except KeyboardInterrupt:  # Ctrl-C while the command is still importing
    sys.stderr.write("qvr: interrupted\n")
    status = 130
sys.exit(status)
