import sys

from malhug.cli import main

sys.exit(main())
