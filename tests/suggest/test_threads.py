"""The personal job's fits run with one BLAS thread; the pool is given back afterwards."""

from __future__ import annotations

import numpy as np  # noqa: F401 - loads the BLAS library whose pool is sized
from threadpoolctl import threadpool_info

from tagassist.suggest.threads import blas_threads


def blas_pools() -> list[int]:
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_the_block_uses_one_blas_thread_and_restores_the_pool():
    before = blas_pools()
    assert before, "numpy's BLAS library was not found"
    with blas_threads():
        assert set(blas_pools()) == {1}
    assert blas_pools() == before
