"""Feature rows: round trip, replacement, versions, what still needs featurizing, bad vectors."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from tagassist.library import Features, Library, LibraryError
from tests.library.conftest import add_items


def test_round_trip_is_exact_and_survives_reopen(lib: Library, lib_path: Path) -> None:
    (a, b) = add_items(lib, 2)
    vec = np.random.default_rng(0).normal(size=1280).astype(np.float32)
    lib.features.put([Features(a, "image-lite0", "1", vec, (("cat", 0.8), ("animal", 0.5)))])
    lib.close()
    with Library.open(lib_path) as again:
        got = again.features.get([a, b], "image-lite0")
    assert set(got) == {a}
    assert got[a].vector.dtype == np.float32 and np.array_equal(got[a].vector, vec)
    assert got[a].words == (("cat", 0.8), ("animal", 0.5)) and got[a].version == "1"


def test_new_version_replaces_and_old_items_need_featurizing(lib: Library) -> None:
    a, b, c = add_items(lib, 3)
    one = np.ones(4, np.float32)
    lib.features.put([Features(i, "image-lite0", "1", one, ()) for i in (a, b)])
    assert lib.features.missing("image-lite0", "1") == [c]
    assert lib.features.missing("image-lite0", "2") == [a, b, c]
    assert lib.features.missing("text-minilm", "1", kind="document") == []
    lib.features.put([Features(a, "image-lite0", "2", 2 * one, ())])
    assert lib.features.missing("image-lite0", "2") == [b, c]
    assert lib.features.get([a], "image-lite0", version="1") == {}
    assert lib.features.get([a], "image-lite0")[a].vector.tolist() == [2.0] * 4


def test_many_ids_are_chunked(lib: Library) -> None:
    ids = add_items(lib, 1200)
    lib.features.put([Features(i, "t", "1", np.full(2, i, np.float32), ()) for i in ids])
    got = lib.features.get(ids, "t")
    assert len(got) == 1200 and got[ids[-1]].vector[0] == ids[-1]


@pytest.mark.parametrize("bad", [np.array([1.0, np.nan]), np.ones((2, 2))])
def test_non_finite_or_2d_vector_is_refused_and_nothing_is_written(lib: Library, bad) -> None:
    a, b = add_items(lib, 2)
    good = Features(a, "t", "1", np.ones(2, np.float32), ())
    with pytest.raises(LibraryError, match=f"item {b}"):
        lib.features.put([good, Features(b, "t", "1", bad, ())])
    assert lib.features.get([a, b], "t") == {}


def test_features_need_an_existing_item(lib: Library) -> None:
    with pytest.raises((LibraryError, sqlite3.IntegrityError)):
        lib.features.put([Features(999, "t", "1", np.ones(2, np.float32), ())])
