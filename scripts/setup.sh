#!/usr/bin/env bash
# Set up TagAssist in ./.venv from nothing. Idempotent; used by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# torch first, pinned: an unpinned torch makes pip resolve a multi-GB CUDA build on CPU machines.
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[train,test]"
