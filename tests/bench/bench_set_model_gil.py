"""How long does loading the set model (SOG) hold the GIL the UI thread needs?

A worker thread loads, in a fresh process each time, either the set model's tokenizer alone
(``tokenizers.Tokenizer.from_file``) or the whole ``SetGenerator``, as the first training or
the first generated set does; the main thread records ``time.perf_counter()`` every 1 ms.
The largest gap between two records is the longest the main thread could not run.  ``idle``
(the worker sleeps) is the timer's own jitter.  Medians over ``--repeats`` processes.

    python -m tests.bench.bench_set_model_gil [--repeats 5] [--json docs/results/set-model-gil.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODES = ("idle", "tokenizer", "set-generator")
TICK_S = 0.001


def _load(mode: str) -> None:
    from tagassist.paths import bundled_models_dir
    from tagassist.suggest.sog import SetGenerator

    folder = bundled_models_dir() / "sog-photos"
    if mode == "idle":
        time.sleep(0.3)
    elif mode == "tokenizer":
        from tokenizers import Tokenizer

        Tokenizer.from_file(str(folder / "tokenizer.json"))
    else:
        SetGenerator(folder)


def measure(mode: str) -> dict[str, float]:
    """In this process: the load in a thread, the main thread ticking; ms."""
    import tokenizers  # noqa: F401 - imported before, as in the app

    import tagassist.suggest.sog  # noqa: F401

    sys.setswitchinterval(0.001)  # as the app sets it (tagassist.ui.app.tune_interpreter)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (_load(mode), done.set()))
    start = last = time.perf_counter()
    largest = 0.0
    thread.start()
    while not done.is_set():
        time.sleep(TICK_S)
        now = time.perf_counter()
        largest, last = max(largest, now - last), now
    thread.join()
    return {"largest_gap_ms": largest * 1e3, "load_ms": (time.perf_counter() - start) * 1e3}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "results" / "set-model-gil.json")
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child)))
        return 0
    result: dict[str, dict] = {}
    for mode in MODES:
        runs = [json.loads(subprocess.run(
            [sys.executable, "-m", "tests.bench.bench_set_model_gil", "--child", mode],
            cwd=ROOT, capture_output=True, text=True, check=True).stdout.splitlines()[-1])
            for _ in range(args.repeats)]
        result[mode] = {key: round(statistics.median(r[key] for r in runs), 1)
                        for key in runs[0]} | {"runs": runs}
        print(f"{mode:>14}: largest gap {result[mode]['largest_gap_ms']} ms, "
              f"load {result[mode]['load_ms']} ms (medians of {args.repeats})")
    args.json.write_text(json.dumps({"repeats": args.repeats, "modes": result}, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
