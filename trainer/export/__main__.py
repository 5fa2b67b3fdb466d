"""``python -m trainer.export``: build the default models (:mod:`trainer.export.default_models`)."""
import sys

from trainer.export.default_models import main

sys.exit(main())
