#!/usr/bin/env bash
# README command (2): set up, then run the test suite (it includes the import-linter layer contracts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# exiftool is the independent XMP reader for the interop tests (they skip without it).
if ! command -v exiftool >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libimage-exiftool-perl) \
    >/dev/null 2>&1 || echo "warning: could not install exiftool; interop tests will skip" >&2
fi
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen
python -m pytest -q "$@"
