"""`python3 -m tickguest VERB ...`: the same as scripts/tickguest."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
