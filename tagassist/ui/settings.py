"""The window's remembered preferences, kept with QSettings (per machine, not in the library).

Per library: the person last working in it.  Global: the thumbnail size, whether new items
are analysed right after an import, how new XMP sidecars are named, and the window's layout
(size and place, maximized or not, the splitter between sidebar, grid and details, which sidebar
sections are open).  The library file holds only the folksonomy, so a library folder copied
to another machine carries no one's display preferences with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from tagassist.media.sidecar_names import CONVENTIONS

THUMB_MIN, THUMB_MAX, THUMB_DEFAULT = 64, 256, 128


def _store() -> QSettings:
    return QSettings("TagAssist", "TagAssist")


def _library_key(root: Path) -> str:
    # QSettings treats "/" as a group separator; a resolved path keeps one library one key.
    return "libraries/" + str(Path(root).resolve()).replace("/", "|")


def remembered_user(root: Path) -> str | None:
    value = _store().value(_library_key(root) + "/user")
    return str(value) if value else None


def remember_user(root: Path, name: str) -> None:
    _store().setValue(_library_key(root) + "/user", name)


def thumbnail_size() -> int:
    try:
        size = int(_store().value("display/thumbnail_size", THUMB_DEFAULT))
    except (TypeError, ValueError):  # a hand-edited settings file must not stop the window
        return THUMB_DEFAULT
    return max(THUMB_MIN, min(THUMB_MAX, size))


def set_thumbnail_size(size: int) -> None:
    _store().setValue("display/thumbnail_size", max(THUMB_MIN, min(THUMB_MAX, int(size))))


def analyse_after_import() -> bool:
    return str(_store().value("jobs/analyse_after_import", "true")).lower() == "true"


def set_analyse_after_import(on: bool) -> None:
    _store().setValue("jobs/analyse_after_import", "true" if on else "false")


RETRAIN_AFTER_DEFAULT = 50


def retrain_after() -> int:
    """Decisions after which the personal model retrains by itself (0 = only on demand)."""
    try:
        return max(0, int(_store().value("jobs/retrain_after", RETRAIN_AFTER_DEFAULT)))
    except (TypeError, ValueError):
        return RETRAIN_AFTER_DEFAULT


def set_retrain_after(n: int) -> None:
    _store().setValue("jobs/retrain_after", max(0, int(n)))


def always_show_set() -> bool:
    """Show the generated set even where it has not earned its place (generated_set.SET_HIDDEN)."""
    return str(_store().value("suggest/always_show_set", "false")).lower() == "true"


def set_always_show_set(on: bool) -> None:
    _store().setValue("suggest/always_show_set", "true" if on else "false")


# -- XMP sidecars -----------------------------------------------------------------------------
# How new sidecars are named when TagAssist writes keywords (tagassist.media.xmp's conventions):
# "auto" (the name of the sidecar already there, else IMG_1.xmp for RAW, IMG_1.jpg.xmp for the
# rest), "basename" (IMG_1.xmp: Lightroom, Capture One), "filename" (IMG_1.jpg.xmp: darktable,
# digiKam).  Pass it to sidecar_export.export_sidecars(convention=...).
SIDECAR_CONVENTION_DEFAULT = "auto"


def sidecar_convention() -> str:
    value = str(_store().value("xmp/sidecar_convention", SIDECAR_CONVENTION_DEFAULT))
    return value if value in CONVENTIONS else SIDECAR_CONVENTION_DEFAULT  # hand-edited: default


def set_sidecar_convention(name: str) -> None:
    if name not in CONVENTIONS:
        raise ValueError(f"sidecar convention {name!r}: use one of {', '.join(CONVENTIONS)}")
    _store().setValue("xmp/sidecar_convention", name)


# -- the window's layout -------------------------------------------------------------------------
SPLITTER_DEFAULT = (240, 680, 360)  # sidebar | grid | details and suggestions
SECTIONS = ("saved_searches", "folders")  # the sidebar's sections that open and close


@dataclass(frozen=True)
class WindowLayout:
    """What the window looked like when it closed.  ``None`` (or a section left out) is
    "not known": the window keeps its default."""

    geometry: QByteArray | None = None  # QWidget.saveGeometry(): size, place, maximized
    splitter: tuple[int, ...] | None = None
    sections: dict[str, bool] = field(default_factory=dict)  # section -> open


def window_layout() -> WindowLayout:
    """The remembered layout; a value that cannot be read (a hand-edited or damaged settings
    file) counts as not known rather than stopping the window."""
    store = _store()
    geometry = store.value("window/geometry")
    if not isinstance(geometry, QByteArray) or geometry.isEmpty():
        geometry = None
    return WindowLayout(geometry=geometry, splitter=_splitter(store.value("window/splitter")),
                        sections={name: open_ for name in SECTIONS
                                  if (open_ := _flag(store.value(f"sidebar/{name}"))) is not None})


def remember_window_layout(layout: WindowLayout) -> None:
    store = _store()
    if layout.geometry is not None:
        store.setValue("window/geometry", layout.geometry)
    if layout.splitter is not None:
        store.setValue("window/splitter", ",".join(str(int(n)) for n in layout.splitter))
    for name, open_ in layout.sections.items():
        if name in SECTIONS:
            store.setValue(f"sidebar/{name}", "true" if open_ else "false")


def _splitter(value: object) -> tuple[int, ...] | None:
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, (list, tuple)) or len(parts) != len(SPLITTER_DEFAULT):
        return None
    try:
        sizes = tuple(int(str(n).strip()) for n in parts)
    except ValueError:
        return None
    if any(n <= 0 or n > 100_000 for n in sizes):
        return None
    return sizes


def _flag(value: object) -> bool | None:
    text = str(value).strip().lower() if value is not None else ""
    return {"true": True, "false": False}.get(text)
