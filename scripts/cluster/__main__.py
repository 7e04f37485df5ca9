"""``python -m scripts.cluster run``: see topology.py."""

import sys

from .topology import main

sys.exit(main(sys.argv[1:]))
