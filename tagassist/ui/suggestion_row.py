"""One suggestion's row in the suggestion panel, and the labels it is built from.

:class:`SuggestionRow` shows a :class:`~tagassist.app.suggest_jobs.Suggested` (or a
:class:`~tagassist.ui.suggest_controller.Decided` one, marked in place) and emits
accept/reject; the panel owns the rows and says which position each one is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QProgressBar, QToolButton, QWidget

from tagassist.ui import theme
from tagassist.ui.suggest_controller import Decided

if TYPE_CHECKING:
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QPaintEvent, QResizeEvent

    from tagassist.app.suggest_jobs import Suggested

REASON_SEP = " · "
SMALL = " font-size: 11px;"


def muted_style() -> str:
    """The muted text colour as a style-sheet fragment; the panel's own labels use it too."""
    return f"color: {theme.css(theme.colours().muted)};"


def _row_style(state: str) -> str:
    """The row's look per state: open, accepted, rejected (colours from the palette)."""
    c = theme.colours()
    background = {"accepted": c.good_soft, "rejected": c.surface}.get(state)
    if background is None:
        return ""
    return (f"QFrame#suggestionRow {{ background: {theme.css(background)};"
            " border-radius: 4px; }")


class ElidedLabel(QLabel):
    """One line of text, elided with … when too narrow; the full text is the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API: may shrink below the text's width
        hint = super().minimumSizeHint()
        hint.setWidth(16)
        return hint

    def paintEvent(self, _event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        text = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             self.contentsRect().width())
        painter.drawText(self.contentsRect(), int(self.alignment()), text)
        painter.end()  # a painter still active when the frame ends breaks the next paint


class ReasonLabel(QLabel):
    """A row's reasons in full, wrapped: whole reasons go on a line while they fit, so a
    line breaks between reasons (" · ") and only a reason wider than the line breaks inside.
    :meth:`full_text` (and the tooltip) is the reason as given."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        self._full = ""
        self._packed_for = -1

    def full_text(self) -> str:
        return self._full

    def set_reason(self, text: str) -> None:
        if text != self._full:
            self._full = text
            self.setToolTip(text)
            self._packed_for = -1
            self._pack()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._pack()

    def _pack(self) -> None:
        width = self.contentsRect().width()
        if width == self._packed_for:
            return
        self._packed_for = width
        self.ensurePolished()  # the style sheet's font size is what the lines are measured in
        fm = self.fontMetrics()
        lines: list[str] = []
        for piece in self._full.split(REASON_SEP):
            joined = lines[-1] + REASON_SEP + piece if lines else piece
            if lines and fm.horizontalAdvance(joined) <= width:
                lines[-1] = joined
            else:
                lines.append(piece)
        text = "\n".join(lines)
        if text != self.text():
            self.setText(text)



def score_text(score: float) -> str:
    pct = score * 100
    return "<1 %" if 0 < pct < 1 else f"{pct:.0f} %"


class SuggestionRow(QFrame):
    """Key hint, tag, score bar (or the decision) and accept/reject buttons; the reasons
    below the tag.

    The panel keeps its rows and shows each new suggestion in one with :meth:`set_suggestion`
    (building a row — style sheets and all — costs far more than updating its texts).
    """

    accept = Signal()
    reject = Signal()

    def __init__(self, position: int, s: Suggested, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suggestionRow")
        self.position = 0
        self.key = key = QLabel(self)
        key.setObjectName("keyHint")
        key.setFixedSize(18, 18)
        key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.name = ElidedLabel("", self)
        self.name.setObjectName("tagName")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("scoreBar")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(52, 7)
        self.score = score = QLabel(self)
        score.setObjectName("score")
        score.setFixedWidth(36)
        score.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        score.setToolTip("Estimated probability that you keep this tag")
        self.decision = QLabel(self)
        self.decision.setObjectName("decision")
        self.decision.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.decision.hide()
        self.state = ""  # "", "accepted" or "rejected"
        self.reason = ReasonLabel(self)
        self.reason.setObjectName("reason")
        self.accept_button = self._button("✓")
        self.reject_button = self._button("✕")
        self.accept_button.clicked.connect(self.accept)
        self.reject_button.clicked.connect(self.reject)
        for b in (self.accept_button, self.reject_button):  # a decided row keeps its layout
            policy = b.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            b.setSizePolicy(policy)

        grid = QGridLayout(self)
        grid.setContentsMargins(2, 2, 2, 2)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        grid.addWidget(key, 0, 0, 2, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.name, 0, 1)
        grid.addWidget(self.bar, 0, 2)
        grid.addWidget(score, 0, 3)
        grid.addWidget(self.decision, 0, 2, 1, 2)
        grid.addWidget(self.accept_button, 0, 4, 2, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.reject_button, 0, 5, 2, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.reason, 1, 1, 1, 3)
        grid.setColumnStretch(1, 1)
        self.restyle()
        self.set_suggestion(position, s)

    def restyle(self) -> None:
        """Colours from the palette (again after a light/dark switch: the panel calls this)."""
        c = theme.colours()
        muted = muted_style()
        self.key.setStyleSheet(
            f"border: 1px solid {theme.css(c.rule)}; border-radius: 3px;"
            f" background: {theme.css(c.surface)}; color: {theme.css(c.text)};" + SMALL)
        self.bar.setStyleSheet(
            "QProgressBar { border: none; border-radius: 3px;"
            f" background: {theme.css(c.track)}; }}"
            f"QProgressBar::chunk {{ border-radius: 3px; background: {theme.css(c.accent)}; }}")
        self.score.setStyleSheet(muted + SMALL)
        self.reason.setStyleSheet(muted + SMALL)
        self.accept_button.setStyleSheet(
            f"QToolButton {{ color: {theme.css(c.good)}; font-weight: bold; }}")
        self.reject_button.setStyleSheet(
            f"QToolButton {{ color: {theme.css(c.bad)}; font-weight: bold; }}")
        state, self.state = self.state, None  # the state's colours too
        self._set_state(state)

    def set_suggestion(self, position: int, s: Suggested) -> None:
        """Show ``s`` as row ``position`` (1-based; number keys go up to 9)."""
        self.suggestion = s
        if position != self.position:
            self.position = position
            self.key.setText(str(position) if position <= 9 else "")
            self.key.setToolTip(f"{position}: accept · Alt+{position}: reject")
            self.accept_button.setToolTip(f"Accept ({position})")
            self.reject_button.setToolTip(f"Reject (Alt+{position})")
        leaf = s.tag.rsplit("|", 1)[-1]
        state = ("accepted" if s.accepted else "rejected") if isinstance(s, Decided) else ""
        self._set_state(state)
        self.name.setText(leaf)
        decided = {"accepted": "\nAccepted: the tag is on the selection (Ctrl+Z undoes)",
                   "rejected": "\nRejected: not suggested here again (Ctrl+Z undoes)"}
        self.name.setToolTip((f"{s.tag}\n{s.reason}" if leaf != s.tag else s.reason)
                             + decided.get(state, ""))
        if self.bar.value() != round(s.score * 100):
            self.bar.setValue(round(s.score * 100))  # repaints at once (unless updates are off)
        self.score.setText(score_text(s.score))
        self.reason.set_reason(s.reason)
        self._name_for_screen_readers(position, s, state)

    def _name_for_screen_readers(self, position: int, s: Suggested, state: str) -> None:
        """Plain-word names for the row and its buttons (what a screen reader says)."""
        tag = " under ".join(reversed(s.tag.split("|")))  # "cat under pets under animals"
        said = {"accepted": "added", "rejected": "rejected"}.get(state, score_text(s.score))
        name = f"Suggestion {position}: {tag}, {said}"
        if self.accessibleName() == name and self.accessibleDescription() == s.reason:
            return
        self.setAccessibleName(name)
        self.setAccessibleDescription(s.reason)
        self.accept_button.setAccessibleName(f"Accept suggestion {position}: {tag}")
        self.accept_button.setAccessibleDescription(
            f"Adds the tag to the selection (key {position})")
        self.reject_button.setAccessibleName(f"Reject suggestion {position}: {tag}")
        self.reject_button.setAccessibleDescription(
            f"Not suggested for this selection again (Alt+{position})")

    def _set_state(self, state: str) -> None:
        """Open, or marked accepted / rejected in place (its number stays; no buttons)."""
        if state == self.state:
            return
        self.state = state
        self.setStyleSheet(_row_style(state))
        # From the row's font, not the name's: that one carries the accepted style's bold,
        # which set back explicitly would stay on every suggestion this row shows later.
        font = QFont(self.font())
        font.setStrikeOut(state == "rejected")
        self.name.setFont(font)
        good = f"color: {theme.css(theme.colours().good)};"
        self.name.setStyleSheet({"accepted": good + " font-weight: bold;",
                                 "rejected": muted_style()}.get(state, ""))
        self.decision.setText({"accepted": "✓ added", "rejected": "✕ rejected"}.get(state, ""))
        self.decision.setStyleSheet((good if state == "accepted" else muted_style()) + SMALL)
        for w in (self.bar, self.score):
            w.setVisible(not state)
        self.decision.setVisible(bool(state))
        for b in (self.accept_button, self.reject_button):
            b.setEnabled(not state)
            b.setVisible(not state)

    def _button(self, text: str) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setAutoRaise(True)
        b.setFixedSize(22, 22)
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        return b
