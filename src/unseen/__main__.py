import sys

try:
    from unseen.cli import command
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing was written yet
    sys.exit(130)

command()
