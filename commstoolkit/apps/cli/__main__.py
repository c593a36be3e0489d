"""``python -m commstoolkit.apps.cli`` runs the command line (as ``python -m commstoolkit``)."""

import sys

from . import main

sys.exit(main())
