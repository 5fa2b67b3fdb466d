"""``python -m tagassist`` is the ``tagassist`` command."""

import sys

from tagassist.cli import main

sys.exit(main())
