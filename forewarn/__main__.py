"""`forewarn` and `python -m forewarn`."""

import sys


def main() -> None:
    """The CLI; Ctrl-C before a command handles it (while starting up) exits 130, quietly."""
    try:
        from forewarn.cli import app

        app(prog_name="forewarn")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
