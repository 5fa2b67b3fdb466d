"""Write a user's tags of every photo into XMP sidecars next to the originals.

Sidecars carry the flat keywords (``dc:subject``: every tag's own name) and the hierarchical ones
(``lr:hierarchicalSubject``: the full ``a|b|c`` path), which digiKam, darktable and Lightroom read.
Originals are never modified; each sidecar is written atomically by :func:`xmp.write_sidecars`,
under the sidecar name the person chose (``convention``: ``auto``, ``basename`` or ``filename``,
see :mod:`tagassist.media.xmp`).  ``photo.jpg`` and ``photo.png`` side by side never share
``photo.xmp``: each gets its own ``photo.jpg.xmp`` / ``photo.png.xmp``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator
from dataclasses import dataclass, field

from tagassist.library import Library
from tagassist.media import sidecar_names, xmp
from tagassist.media.errors import MediaError


@dataclass(frozen=True)
class SidecarProgress:
    done: int
    total: int
    path: str


@dataclass
class SidecarReport:
    written: list[str] = field(default_factory=list)  # each sidecar file written, once
    problems: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False


def keywords_for(tag_paths: list[str]) -> tuple[list[str], list[str]]:
    """(flat, hierarchical) keyword lists for a set of tag paths like ``animals|pets|cat``."""
    flat = sorted({p.split("|")[-1] for p in tag_paths}, key=str.casefold)
    hierarchical = sorted({p for p in tag_paths if "|" in p}, key=str.casefold)
    return flat, hierarchical


def export_sidecars(library: Library, user_id: int | None = None,
                    cancel: threading.Event | None = None, convention: str = "auto"
                    ) -> Generator[SidecarProgress, None, SidecarReport]:
    """Write sidecars for every photo that has tags; yields progress, returns the report.

    ``convention`` names new sidecars (one of :data:`sidecar_names.CONVENTIONS`; ValueError
    otherwise).
    """
    if convention not in sidecar_names.CONVENTIONS:
        raise ValueError(f"sidecar convention {convention!r}: use one of "
                         f"{', '.join(sidecar_names.CONVENTIONS)}")
    report = SidecarReport()
    seen: set[str] = set()
    ids = library.items.ids()
    for done, item in enumerate(library.items.get_many(ids), 1):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        yield SidecarProgress(done, len(ids), item.paths[0] if item.paths else "")
        if item.kind != "photo":
            continue
        tags = [t.path for t in library.assignments.tags_of(item.id, user_id)]
        if not tags:
            continue
        flat, hierarchical = keywords_for(tags)
        for path in item.paths:
            if not os.path.exists(path):
                continue
            try:
                result = xmp.write_sidecars(path, flat, hierarchical, convention)
            except (MediaError, OSError) as exc:
                report.problems.append((path, str(exc)))
                continue
            for side in map(str, result.written):
                if side not in seen:
                    seen.add(side)
                    report.written.append(side)
            report.problems += [(str(side), why) for side, why in result.skipped]
    return report
