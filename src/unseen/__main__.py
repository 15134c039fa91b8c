import sys

from unseen.cli import main

sys.exit(main())
