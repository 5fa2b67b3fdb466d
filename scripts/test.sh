#!/usr/bin/env bash
# README command (2): set up, then run the test suite (it includes the import-linter layer contracts).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# exiftool is the independent XMP reader for the interop tests; WordNet 3.0 lets a test rebuild
# resources/imagenet_words.json and compare it with the committed file; strace lets
# tests/test_no_network.py watch the commands' system calls for network sockets ("nothing
# leaves the machine"). Those tests skip without them.
if { ! command -v exiftool >/dev/null 2>&1 || [ ! -f /usr/share/wordnet/data.noun ] \
     || ! command -v strace >/dev/null 2>&1; } \
   && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
     --no-install-recommends libimage-exiftool-perl wordnet-base strace) \
    >/dev/null 2>&1 \
    || echo "warning: could not install exiftool/wordnet-base/strace; those tests skip" >&2
fi
. .venv/bin/activate
export QT_QPA_PLATFORM=offscreen
python -m pytest -q "$@"
