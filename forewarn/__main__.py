import sys

try:
    from forewarn.cli import app
except KeyboardInterrupt:  # Ctrl-C while starting up
    sys.exit(130)

app(prog_name="forewarn")
