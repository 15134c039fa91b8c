import sys

try:
    from unseen.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing was written yet
    sys.exit(130)

sys.exit(main())
