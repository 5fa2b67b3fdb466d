#!/usr/bin/env bash
# README command (1): set up, then open TagAssist on the bundled sample library.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/check_display.sh
. .venv/bin/activate
exec tagassist --sample "$@"
