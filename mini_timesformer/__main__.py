"""``python -m mini_timesformer``: the same command line as ``mini-timesformer``."""

import sys

from .cli import main

sys.exit(main())
