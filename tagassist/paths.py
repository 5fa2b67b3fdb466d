"""Where TagAssist keeps things: the library folder, caches and bundled resources.

A *library* is a folder holding ``tagassist.db`` (the folksonomy).  Thumbnails are cached by
content hash under the cache folder, so several libraries can share one cache safely.
Defaults come from platformdirs; ``--library`` and the environment override them:

- ``TAGASSIST_LIBRARY``: the library folder (default: ``<user data dir>/library``)
- ``TAGASSIST_CACHE_DIR``: the cache folder (default: platformdirs' user cache dir)
- ``TAGASSIST_MODELS_DIR``: the per-user model folder (default: ``<user data dir>/models``)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import platformdirs

APP = "TagAssist"
DB_NAME = "tagassist.db"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_library_dir() -> Path:
    return Path(os.environ.get("TAGASSIST_LIBRARY") or user_data_dir() / "library")


def default_cache_dir() -> Path:
    return Path(os.environ.get("TAGASSIST_CACHE_DIR")
                or platformdirs.user_cache_dir(APP, appauthor=False))


def user_models_dir() -> Path:
    return Path(os.environ.get("TAGASSIST_MODELS_DIR") or user_data_dir() / "models")


@dataclass(frozen=True)
class LibraryPaths:
    """The files of one library and the cache it uses."""

    root: Path
    cache: Path

    @property
    def database(self) -> Path:
        return self.root / DB_NAME

    @property
    def thumbnails(self) -> Path:
        return self.cache / "thumbnails"

    @classmethod
    def resolve(cls, library: str | os.PathLike | None = None,
                cache: str | os.PathLike | None = None) -> LibraryPaths:
        root = Path(library).expanduser() if library else default_library_dir()
        # A path to the .db file itself is accepted too.
        if root.suffix == ".db":
            root = root.parent
        return cls(root=root.resolve(),
                   cache=Path(cache).expanduser().resolve() if cache else default_cache_dir())


def sample_library_dir() -> Path:
    """The bundled sample photos and documents, from the installed package (not the source tree)."""
    return Path(str(resources.files("resources") / "sample_library"))


def bundled_models_dir() -> Path:
    """The default ONNX models shipped with TagAssist (``models/`` of a source checkout or the
    installed ``models`` package; built by ``python -m trainer.export``)."""
    return Path(str(resources.files("models")))
