"""Photos -> the image model's input crops, decoded in worker processes ahead of the encoder.

Decoding a photo (libjpeg, EXIF rotation, resize, crop) costs more than running Lite0 on it,
so ``featurize`` hands the decoding to a pool of processes and keeps only the model (and the
store) in its own: while the encoder runs batch k, the workers decode batches k+1 and k+2.

- Processes from the ``spawn`` context: the app is a Qt process with threads, where ``fork``
  is unsafe; ``forkserver`` would leave its server process running for the app's lifetime.
  The workers are all started at once with the parent's ``__main__`` hidden: spawn imports it
  again in every child, and the workers need nothing of it (the ``tagassist`` entry script
  imports the whole CLI; a bench module, onnxruntime: measured 0.34 s CPU a worker instead
  of 0.95 s).  A new worker imports numpy and Pillow only.
- One worker per CPU the process may use.  The encoder (onnxruntime, 2 intra-op threads that
  sleep when idle, ``runtime.py``) shares the CPUs with them; the workers run at nice 10 at
  least (``tagassist.priority``), like the window's analysis thread and the trainer child,
  so the window's UI thread comes first.  On 2 cores one
  worker would leave decoding (34 ms a photo) as the limit, ~29 photos/s; two keep both cores
  busy (~55 CPU ms a photo: ~35 photos/s).  Under load the two were within noise
  (docs/decode.md).
- A job too small to repay starting the workers (``MIN_POOLED`` photos), a one-CPU machine
  and a pool that cannot start decode in process.
- A file that does not decode comes back as its reason (the others go on).  A pool that
  breaks (a worker killed) is given up: the rest is decoded in process, as before the pool.
- Closing (a ``with`` block, also when the caller stops early: cancel) drops the queued work,
  waits for the few decodes already running and joins every worker: none is left behind.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import types
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Generic, TypeVar

import numpy as np

from tagassist.media.errors import MediaError
from tagassist.media.preprocess import Preprocessing
from tagassist.priority import BACKGROUND_NICE, at_background_priority

# Photos from which a job is pooled: starting the workers takes ~0.5 s and saves ~15 ms a
# photo on 2 idle cores (~22 -> ~35 photos/s, docs/decode.md): even at ~30 photos, so 48.
MIN_POOLED = 48
AHEAD = 2  # batches decoded ahead of the one being encoded
WORKER_NICE = BACKGROUND_NICE

Key = TypeVar("Key")
Decoded = np.ndarray | str  # a uint8 crop, or why the file could not be decoded
Entry = tuple[Key, str | None]  # (caller's key, path; None: no file to decode)


def decode_one(spec: Preprocessing, path: str) -> Decoded:
    """One photo's uint8 crop, or the reason it cannot be decoded (never raises for a file)."""
    try:
        return spec.crop(path)
    except MediaError as e:
        return e.reason
    except Exception as e:  # noqa: BLE001 - past the decoders' own checks: still this file's
        return f"cannot decode: {type(e).__name__}: {e}"[:200]


def _worker_start() -> None:
    at_background_priority(WORKER_NICE)


@contextlib.contextmanager
def _main_module_hidden() -> Iterator[None]:
    """Start processes as if ``__main__`` were empty: spawn then imports nothing of it."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class PhotoDecoder(Generic[Key]):
    """Decodes batches of photos, in workers when the job is worth it, else in process."""

    def __init__(self, spec: Preprocessing, photos: int, *, workers: int | None = None,
                 min_pooled: int = MIN_POOLED) -> None:
        self.spec = spec
        self.workers = max(1, workers or usable_cpus())
        self._pool: ProcessPoolExecutor | None = None
        self._started: list[Future[int]] = []
        self.fallback = ""  # why a pooled job went on in process ("" while it did not)
        if photos >= min_pooled and usable_cpus() >= 2:
            try:
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_worker_start)
                with _main_module_hidden():  # one submit starts one worker (none is idle yet)
                    self._started = [self._pool.submit(os.getpid) for _ in range(self.workers)]
            except (OSError, ValueError, RuntimeError, BrokenProcessPool) as e:  # no processes
                self.fallback = f"decode pool did not start: {e}"
                self.close()

    @property
    def pooled(self) -> bool:
        return self._pool is not None

    def worker_pids(self) -> list[int]:
        """The workers' process ids (waits for them to start)."""
        return [f.result() for f in self._started] if self._pool is not None else []

    def __enter__(self) -> PhotoDecoder[Key]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Drop queued work, wait for running decodes, join the workers (idempotent)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def decode(self, batches: Iterable[Sequence[Entry[Key]]]
               ) -> Iterator[list[tuple[Key, str | None, Decoded]]]:
        """Per batch, in order: (key, path, crop or reason); a ``None`` path passes through
        with the reason "file is missing".  Pooled, ``AHEAD`` batches are decoded ahead."""
        pending: deque[list[tuple[Key, str | None, Future[Decoded] | None]]] = deque()
        source = iter(batches)

        def fill() -> None:
            while self._pool is not None and len(pending) < AHEAD:
                batch = next(source, None)
                if batch is None:
                    return
                pending.append([(k, p, self._submit(p)) for k, p in batch])

        fill()
        while True:
            if pending:
                submitted = pending.popleft()
                fill()  # the next AHEAD batches decode while the caller encodes this one
                yield [(k, p, self._result(p, f)) for k, p, f in submitted]
                continue
            batch = next(source, None)
            if batch is None:
                return
            yield [(k, p, self._local(p)) for k, p in batch]

    def _submit(self, path: str | None) -> Future[Decoded] | None:
        if path is None or self._pool is None:
            return None
        try:
            return self._pool.submit(decode_one, self.spec, path)
        except (BrokenProcessPool, OSError, RuntimeError) as e:
            self._give_up(e)
            return None

    def _result(self, path: str | None, future: Future[Decoded] | None) -> Decoded:
        if future is None:
            return self._local(path)
        try:
            return future.result()
        except (BrokenProcessPool, CancelledError) as e:  # cancelled: by _give_up
            self._give_up(e)
            return self._local(path)
        except Exception as e:  # noqa: BLE001 - whatever a worker raised belongs to this file
            return f"cannot decode: {type(e).__name__}: {e}"[:200]

    def _local(self, path: str | None) -> Decoded:
        return "file is missing" if path is None else decode_one(self.spec, path)

    def _give_up(self, error: BaseException) -> None:
        if not self.fallback:
            self.fallback = f"decode pool failed ({type(error).__name__}: {error})"[:200]
        self.close()
