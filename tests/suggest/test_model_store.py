"""The per-user model folders: versions, publish from staging, the registry swap, pruning."""

from __future__ import annotations

import threading

from tagassist.library import Library
from tagassist.suggest.model_store import (
    PERSONAL_CONTENT,
    ModelStore,
    activate,
    active_version,
    model_name,
)


def _library(tmp_path) -> Library:
    return Library.open(tmp_path / "lib" / "tagassist.db")


def _write_version(store: ModelStore, user: int, payload: str) -> tuple[str, object]:
    staging = store.staging(PERSONAL_CONTENT, user)
    (staging / "model.onnx").write_text(payload)
    return store.publish(staging)


def test_store_lives_in_the_library_folder(tmp_path):
    with _library(tmp_path) as lib:
        store = ModelStore.of(lib)
        assert store.root == tmp_path / "lib" / "models"
        assert store.folder(PERSONAL_CONTENT, 3) == store.root / "user-3" / PERSONAL_CONTENT
        assert model_name(PERSONAL_CONTENT, 3) == "personal-content/user-3"


def test_publish_numbers_versions_and_leaves_no_staging(tmp_path):
    with _library(tmp_path) as lib:
        store = ModelStore.of(lib)
        assert store.versions(PERSONAL_CONTENT, 1) == []
        v1, p1 = _write_version(store, 1, "one")
        v2, p2 = _write_version(store, 1, "two")
        assert (v1, v2) == ("v0001", "v0002")
        assert (p2 / "model.onnx").read_text() == "two"
        assert store.versions(PERSONAL_CONTENT, 1) == ["v0001", "v0002"]
        folder = store.folder(PERSONAL_CONTENT, 1)
        assert not [p for p in folder.iterdir() if p.name.startswith(".staging")]
        assert store.versions(PERSONAL_CONTENT, 2) == []  # users do not share folders


def test_an_empty_staging_folder_is_refused(tmp_path):
    with _library(tmp_path) as lib:
        store = ModelStore.of(lib)
        staging = store.staging(PERSONAL_CONTENT, 1)
        try:
            store.publish(staging)
        except ValueError as e:
            assert "nothing to publish" in str(e)
        else:
            raise AssertionError("an empty staging folder was published")


def test_discarded_staging_is_never_a_version(tmp_path):
    with _library(tmp_path) as lib:
        store = ModelStore.of(lib)
        staging = store.staging(PERSONAL_CONTENT, 1)
        (staging / "model.onnx").write_text("half")
        store.discard(staging)
        assert not staging.exists() and store.versions(PERSONAL_CONTENT, 1) == []


def test_concurrent_publishes_get_distinct_versions(tmp_path):
    with _library(tmp_path) as lib:
        store = ModelStore.of(lib)
        stagings = [store.staging(PERSONAL_CONTENT, 1) for _ in range(8)]
        for n, s in enumerate(stagings):
            (s / "model.onnx").write_text(str(n))
        results: list[str] = []
        threads = [threading.Thread(target=lambda s=s: results.append(store.publish(s)[0]))
                   for s in stagings]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results) == [f"v{n:04d}" for n in range(1, 9)]


def test_activate_swaps_and_prunes_but_keeps_the_active(tmp_path):
    with _library(tmp_path) as lib:
        store = ModelStore.of(lib)
        assert active_version(lib, PERSONAL_CONTENT, 1) is None
        published = [_write_version(store, 1, str(n)) for n in range(5)]
        activate(lib, PERSONAL_CONTENT, 1, *published[0], {"f1@5": 0.1})
        assert active_version(lib, PERSONAL_CONTENT, 1).version == "v0001"
        # activation prunes: the newest KEEP=3 stay, and the active v0001 beside them
        assert store.versions(PERSONAL_CONTENT, 1) == ["v0001", "v0003", "v0004", "v0005"]
        record = activate(lib, PERSONAL_CONTENT, 1, *published[4], {"f1@5": 0.3})
        assert record.active and record.metrics == {"f1@5": 0.3}
        assert active_version(lib, PERSONAL_CONTENT, 1).version == "v0005"
        assert active_version(lib, PERSONAL_CONTENT, 2) is None
        assert store.versions(PERSONAL_CONTENT, 1) == ["v0003", "v0004", "v0005"]
