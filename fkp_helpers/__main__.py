"""``python -m fkp_helpers``: the fkp command line."""
import sys

from fkp_helpers.cli import main

sys.exit(main())
