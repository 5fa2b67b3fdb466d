#!/usr/bin/env bash
# Replay every shared replay set through the app's own path (EVALUATION.md `session`) and write
# the table of docs/results/session-replay.md.  Usage: bash scripts/replay_all.sh OUT_DIR
# (TRAIN=set,blend,content by default: what the window's automatic retraining runs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/replay_all.sh OUT_DIR}
mkdir -p "$out"
. .venv/bin/activate
python -m trainer.replay_sets --out "$out/sets" > "$out/sets.log"
for truth in "$out"/sets/*/labels.csv; do
  set_dir=$(dirname "$truth"); name=$(basename "$set_dir")
  python -m trainer.session_replay --photos "$(cat "$set_dir/photos.txt")" --truth "$truth" \
    --train "${TRAIN:-set,blend,content}" --json "$out/$name.json" --plot "$out/$name.png" \
    --dump "$out/$name.npz" > "$out/$name.log" 2>&1
done
python -m trainer.session_summary "$out"/*.json
