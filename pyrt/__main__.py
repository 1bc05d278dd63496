"""`python -m pyrt ...`: see pyrt.cli."""

import sys

from .cli import main

sys.exit(main())
