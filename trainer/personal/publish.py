"""Publishing a trained model: ONNX (parity-checked) and the trainer weights written into a
staging folder, renamed to the next version (:class:`~tagassist.suggest.model_store.ModelStore`),
then its final version name written into its metadata.  Files only: the app registers and
activates the version in the database afterwards."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tagassist.library import Library
from tagassist.suggest.model_store import PERSONAL_CONTENT, ModelStore
from tagassist.suggest.train_events import Done
from trainer.models.base import TagModel
from trainer.personal.data import FEATURIZER, LibraryPosts

WEIGHTS = "weights"  # the trainer's own weights beside the ONNX file (warm start)


def publish(library: Library, final: TagModel, posts: LibraryPosts, user_id: int,
            record: dict[str, Any], trained_photos: int, check: Callable[[], None]) -> Done:
    """Export ONNX (parity-checked) and the trainer weights into a staging folder, then
    rename it to the next version; a failure or cancel removes the staging folder."""
    from trainer.export.personal import export_personal  # torch.onnx only when exporting

    store = ModelStore.of(library)
    staging = store.staging(PERSONAL_CONTENT, user_id)
    try:
        export_personal(final, staging, tags=posts.data.tags,
                        users=[str(u) for u in posts.user_ids],
                        extra={"name": PERSONAL_CONTENT, "version": "", "user_id": user_id,
                               "featurizer": FEATURIZER,
                               "feature_version": posts.feature_version,
                               "calibration": record["calibration"],
                               "metrics": record["metrics"],
                               "trained_photos": trained_photos,
                               # the newest tag it saw: later photos are the next check's
                               "trained_until": float(posts.data.time.max())},
                        reuse=record.get("reuse"))
        final.save(staging / WEIGHTS)  # the next update's warm start
        check()
        version, path = store.publish(staging)
    except BaseException:
        store.discard(staging)
        raise
    set_version(path, version)
    return Done(version=version, path=str(path), model=record["model"],
                metrics=record["metrics"], calibration=record["calibration"])


def set_version(path: Path, version: str) -> None:
    """Write the final version name into metadata.json (checksums cover model.onnx only)."""
    meta_path = path / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["version"] = version
    tmp = meta_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(meta, indent=2))
    tmp.replace(meta_path)
