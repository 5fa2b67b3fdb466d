"""``python -m trainer.personal``: arguments, signals (cancel), the read-only library, and
one event per stdout line (:mod:`tagassist.suggest.train_events`); see :mod:`trainer.personal`
for what the job does and its exit codes.

Nothing leaves the machine: onnxruntime's telemetry (the parity check of the export loads
it) started uploading to mobile.events.data.microsoft.com about ten seconds after its import,
inside this child (seen with ``strace -f -e trace=network``); ``ORT_DISABLE_TELEMETRY=1``
stops it only when set before onnxruntime is imported, so it is set before any import here
(tagassist.suggest.runtime sets it as well, for the app's own process).
"""
from __future__ import annotations

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

import trainer.personal as package
from tagassist.library import Library, LibraryError
from tagassist.priority import BACKGROUND_NICE, at_background_priority
from tagassist.suggest.train_events import Cancelled as CancelledEvent
from tagassist.suggest.train_events import Error, Skipped, TrainEvent
from trainer.models.base import ModelFitError
from trainer.personal import Cancelled, NotPublished
from trainer.personal.job import train_personal
from trainer.personal.selection import CANDIDATES


def _emit(event: TrainEvent) -> None:
    print(event.to_json(), flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.personal", description=package.__doc__)
    p.add_argument("--library", required=True, help="library folder or its tagassist.db")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="user name")
    who.add_argument("--user-id", type=int, help="user id in the library")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", default=",".join(CANDIDATES))
    p.add_argument("--full", action="store_true",
                   help="train every weight again instead of updating your rows only")
    p.add_argument("--nice", type=int, default=BACKGROUND_NICE,
                   help="run this process at nice N at least (the app starts it in the "
                        "background; its window must keep the CPU it needs); 0: unchanged")
    args = p.parse_args(argv)
    if args.nice > 0:
        at_background_priority(args.nice)

    stop = {"flag": False}

    def on_signal(signum: int, frame: Any) -> None:
        stop["flag"] = True

    def check() -> None:
        if stop["flag"]:
            raise Cancelled

    import torch

    # small models: one thread is as fast when idle and ~27x faster when the app (or anything
    # else) keeps the other core busy (measured on CNN-PerMLP, 204 COCO photos, 60 epochs)
    torch.set_num_threads(1)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    db = Path(args.library)
    db = db if db.suffix == ".db" else db / "tagassist.db"
    try:
        if not db.is_file():
            raise NotPublished(f"no library at {db}")
        # read-only: the job never writes the database, and never migrates it (the app does)
        with Library.open_read_only(db) as library:
            user = next((u for u in library.users.all()
                         if u.name == args.user or u.id == args.user_id), None)
            if user is None:
                raise NotPublished(f"no user {args.user or args.user_id!r} in this library")
            _emit(train_personal(library, user.id, seed=args.seed, progress=_emit, check=check,
                                 candidates=tuple(m for m in args.models.split(",") if m),
                                 full=args.full))
        return 0
    except Cancelled:
        _emit(CancelledEvent(message="training cancelled; the previous model stays"))
        return 130
    except NotPublished as e:
        _emit(Skipped(message=str(e)))
        return 3
    except (ModelFitError, LibraryError, OSError, ValueError, RuntimeError) as e:
        _emit(Error(message=f"{type(e).__name__}: {e}"))
        return 2


if __name__ == "__main__":
    sys.exit(main())
