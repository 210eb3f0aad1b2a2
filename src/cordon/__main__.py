import sys

from cordon.cli import main

sys.exit(main())
