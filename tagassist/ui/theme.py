"""The window's colours, taken from the application palette, so a dark system palette gives
light text on dark backgrounds and a light one the reverse.

Neutral colours (muted text, rules, soft backgrounds) are mixed from the palette's own text
and window colours; the few signal colours (added green, error red, the notification tints)
come in a light-palette and a dark-palette shade, picked by how light the window colour is.
Widgets that put colours in style sheets build them from :func:`colours` and build them
again on ``QEvent.PaletteChange`` (a system switch to dark mode changes the application
palette, which Qt hands to every widget as that event), see :func:`restyle_on_palette_change`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

_ROLE = QPalette.ColorRole


def mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved ``t`` (0…1) of the way to ``b``."""
    return QColor.fromRgbF(a.redF() + (b.redF() - a.redF()) * t,
                           a.greenF() + (b.greenF() - a.greenF()) * t,
                           a.blueF() + (b.blueF() - a.blueF()) * t)


def css(colour: QColor) -> str:
    """A colour as a style sheet writes it."""
    if colour.alpha() == 255:
        return colour.name()
    return f"rgba({colour.red()}, {colour.green()}, {colour.blue()}, {colour.alpha()})"


def luminance(colour: QColor) -> float:
    """Relative luminance (WCAG 2)."""
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    return (0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF())
            + 0.0722 * channel(colour.blueF()))


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 … 21; 4.5 is enough for small text)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def app_palette() -> QPalette:
    return QGuiApplication.palette()


def is_dark(palette: QPalette | None = None) -> bool:
    palette = palette if palette is not None else app_palette()
    return palette.color(_ROLE.Window).lightness() < 128


@dataclass(frozen=True)
class Colours:
    text: QColor  # the palette's window text
    muted: QColor  # secondary text (reasons, hints): readable, quieter than ``text``
    rule: QColor  # separators and light borders
    surface: QColor  # a soft panel behind something (the preview, key caps)
    track: QColor  # an empty score bar
    accent: QColor  # the palette's highlight (score bars, the main button)
    accent_text: QColor  # text on ``accent``
    good: QColor  # "added" text
    good_soft: QColor  # an accepted row's background
    bad: QColor  # errors, "reject"
    bad_soft: QColor  # a hovered chip (click removes)
    chip: QColor  # a tag chip's background
    chip_border: QColor
    error_soft: QColor  # notification backgrounds and borders, by level
    error_border: QColor
    warning_soft: QColor
    warning_border: QColor
    info_soft: QColor
    info_border: QColor


_cached: tuple[int, Colours] | None = None  # (palette cache key, its colours)


def colours(palette: QPalette | None = None) -> Colours:
    """The window's colours for ``palette`` (default: the application's); worked out once
    per palette (placeholder tiles ask for them while the grid paints)."""
    global _cached
    p = palette if palette is not None else app_palette()
    key = p.cacheKey()
    if _cached is not None and _cached[0] == key:
        return _cached[1]
    made = _colours(p)
    _cached = (key, made)
    return made


def _colours(p: QPalette) -> Colours:
    text, window = p.color(_ROLE.WindowText), p.color(_ROLE.Window)
    accent = p.color(_ROLE.Highlight)
    dark = window.lightness() < 128

    def shade(light: str, dark_: str) -> QColor:
        return QColor(dark_ if dark else light)

    good, bad = shade("#17652f", "#7ad48f"), shade("#b00020", "#ff8a8a")
    warning, info = shade("#b26a00", "#f0b45a"), shade("#2f6fc0", "#8ab8f0")
    return Colours(
        text=text,
        # Quieter than the text, still AA-readable (4.5:1) at 11 px, on a tinted row too;
        # light text on dark needs to stay a little nearer the text colour.
        muted=mix(text, window, 0.3 if dark else 0.38),
        rule=mix(window, text, 0.16),
        surface=mix(window, text, 0.05),
        track=mix(window, text, 0.12),
        accent=accent,
        accent_text=p.color(_ROLE.HighlightedText),
        good=good,
        good_soft=mix(window, good, 0.12),
        bad=bad,
        bad_soft=mix(window, bad, 0.2),
        chip=mix(window, accent, 0.16),
        chip_border=mix(window, accent, 0.45),
        error_soft=mix(window, bad, 0.12),
        error_border=mix(window, bad, 0.35),
        warning_soft=mix(window, warning, 0.14),
        warning_border=mix(window, warning, 0.4),
        info_soft=mix(window, info, 0.12),
        info_border=mix(window, info, 0.35),
    )


class _PaletteWatch(QObject):
    def __init__(self, widget: QWidget, apply: Callable[[], None]) -> None:
        super().__init__(widget)
        self._apply = apply
        self._busy = False

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.PaletteChange and not self._busy:
            self._busy = True  # a style sheet set in ``apply`` may change the palette again
            try:
                self._apply()
            finally:
                self._busy = False
        return False


def restyle_on_palette_change(widget: QWidget, apply: Callable[[], None]) -> None:
    """Call ``apply`` now and whenever ``widget``'s palette changes (a light/dark switch).

    ``widget`` must have no style sheet of its own: a style sheet fixes the palette of the
    widget it is set on, which then hears of no later change; watch its parent instead.
    """
    apply()
    widget.installEventFilter(_PaletteWatch(widget, apply))
