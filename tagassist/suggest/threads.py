"""The BLAS thread pool while the personal job fits the set and the blend.

The fits are many small products (a photo's words against a few hundred tag vectors, the
ranker's Newton steps on 30 features).  OpenBLAS's pool of one thread per core spent more
time waking and spinning its threads than multiplying: on the 2-core machine with other work
running, the blend stage took 14.8 s with the default pool and 6.6 s with one thread, its
ranker fit 1.7 s against 0.14 s (docs/results/session-replay/README.md, "The personal job").
A suggestion on a library of 100,000 items is the other way round (bench_suggest_scale, alone
on the machine: 23 ms p50 with the default pool, 34 ms with one thread), so the limit holds
only while the fits run.  threadpoolctl's limit is the process's, so suggestions asked for
during those seconds use one thread too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

FIT_BLAS_THREADS = 1


@contextmanager
def blas_threads(n: int = FIT_BLAS_THREADS) -> Iterator[None]:
    """Use ``n`` BLAS threads inside the block (every BLAS library loaded; threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an install without it: the pool keeps its size
        yield
        return
    with threadpool_limits(n, user_api="blas"):
        yield
