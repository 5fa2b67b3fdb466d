"""The BLAS thread pool of the app's process, sized once by each entry point.

The suggestion math is many small products (a photo's words against a few hundred tag
vectors, one item against the library's embeddings).  OpenBLAS's default pool of one thread
per core spent more time waking and spinning its threads than multiplying: on the 2-core
machine with other work running, the personal job's blend stage took 14.8 s with the default
and 6.6 s with one thread, its ranker fit 1.7 s against 0.14 s
(docs/results/session-replay/README.md, "Threads").  The models' own pools (onnxruntime,
torch in the trainer's child) are sized elsewhere and are not touched.
"""

from __future__ import annotations

import os

BLAS_THREADS = 1


def limit_blas_threads(n: int = BLAS_THREADS) -> None:
    """Use ``n`` BLAS threads in this process: the libraries loaded already (threadpoolctl)
    and those loaded later (scipy's own OpenBLAS reads the variable when it loads)."""
    os.environ["OPENBLAS_NUM_THREADS"] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an older install without it: the loaded pools keep their size
        return
    threadpool_limits(n, user_api="blas")
