"""``python -m launchpad.cli`` runs ``lpad``."""

import sys

from .lpad import main

sys.exit(main())
