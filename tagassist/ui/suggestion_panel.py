"""The suggestion panel: ranked tags for the selection, SOG's generated set, training.

A thin view: it shows a :class:`~tagassist.app.suggest_jobs.SuggestResult` (or a message) and
emits intent — accept/reject the n-th row, train — that the main window routes to the
controller.  Row n answers to number key n (the window owns the shortcuts); a decided row
(:class:`~tagassist.ui.suggest_controller.Decided`) stays in place, marked accepted or
rejected.  The models behind the suggestions are the title's tooltip (and in Settings); only
a model that could not load is shown in the panel.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QPainter
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from tagassist.app.suggest_jobs import Suggested, SuggestResult
from tagassist.suggest.model_store import PERSONAL_CONTENT
from tagassist.ui import theme
from tagassist.ui.suggest_controller import Decided

if TYPE_CHECKING:
    from PySide6.QtCore import QSize, SignalInstance
    from PySide6.QtGui import QPaintEvent, QResizeEvent

KEYS_HELP = "1–9 accept · Alt+1–9 reject · A all ≥ {threshold} % · X reject the rest"
SET_EXPLAINED = ("A set of tags generated one at a time, each given the photo's image words, "
                 "place, time, title and the tags already chosen (SOG). G accepts the set.")
TRAIN_TIP = "Train your personal model from the photos you tagged"
REASON_SEP = " · "
SMALL = " font-size: 11px;"


def _muted() -> str:
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


def _score_text(score: float) -> str:
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
        muted = _muted()
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
        self.score.setText(_score_text(s.score))
        self.reason.set_reason(s.reason)
        self._name_for_screen_readers(position, s, state)

    def _name_for_screen_readers(self, position: int, s: Suggested, state: str) -> None:
        """Plain-word names for the row and its buttons (what a screen reader says)."""
        tag = " under ".join(reversed(s.tag.split("|")))  # "cat under pets under animals"
        said = {"accepted": "added", "rejected": "rejected"}.get(state, _score_text(s.score))
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
                                 "rejected": _muted()}.get(state, ""))
        self.decision.setText({"accepted": "✓ added", "rejected": "✕ rejected"}.get(state, ""))
        self.decision.setStyleSheet((good if state == "accepted" else _muted()) + SMALL)
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


class SuggestionPanel(QWidget):
    accept_requested = Signal(int)  # row index (0-based)
    reject_requested = Signal(int)
    train_requested = Signal()
    accept_set_requested = Signal()

    def __init__(self, parent: QWidget | None = None, threshold: float = 0.5) -> None:
        super().__init__(parent)
        self.setObjectName("suggestionPanel")
        keys = KEYS_HELP.format(threshold=round(threshold * 100))
        self.setToolTip("Keyboard: " + keys)
        self.title = header = self._heading("Suggested for you", margin=2)
        header.setObjectName("suggestTitle")
        self.busy = QLabel(self)
        self.busy.setObjectName("suggestBusy")
        self.message = QLabel(self)
        self.message.setObjectName("suggestMessage")
        self.message.setWordWrap(True)

        self._rows_box = QWidget(self)
        self._rows = QVBoxLayout(self._rows_box)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(0)
        self._rows.addStretch(1)
        self.scroll = scroll = QScrollArea(self)
        scroll.setObjectName("suggestionList")
        scroll.setAccessibleName("Suggested tags")
        scroll.setAccessibleDescription(
            "Ranked tags for the selection; 1 to 9 accept, Alt+1 to Alt+9 reject")
        scroll.setWidget(self._rows_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.keys_hint = ElidedLabel(keys, self)
        self.keys_hint.setObjectName("keysHint")

        self.set_note = QLabel("", self)
        self.set_note.setObjectName("generatedSetNote")
        self.set_note.setWordWrap(True)
        self.set_note.setToolTip(SET_EXPLAINED)
        self.set_tags = QLabel("", self)
        self.set_tags.setObjectName("generatedSet")
        self.set_tags.setWordWrap(True)
        self.set_tags.setToolTip(SET_EXPLAINED)
        self.set_button = QPushButton("Accept set (G)", self)
        self.set_button.setObjectName("acceptSetButton")
        self.set_button.setToolTip("Add every tag of the generated set to the photo")
        self.set_button.setAccessibleName("Accept the suggested set")
        self.set_button.setAccessibleDescription(
            "Adds every tag of the generated set to the photo (key G)")
        self.set_button.clicked.connect(self.accept_set_requested)
        # Only a model that could not load is shown here; the versions are the title's tooltip.
        self.models = ElidedLabel("", self)
        self.models.setObjectName("modelsLine")
        self.models.hide()
        self.personal = ElidedLabel("", self)
        self.personal.setObjectName("personalLine")
        self.train_button = QPushButton("Train my suggestions", self)
        self.train_button.setObjectName("trainButton")
        self.train_button.setToolTip(TRAIN_TIP)
        self.train_button.setAccessibleName("Train my suggestions")
        self.train_button.setAccessibleDescription(TRAIN_TIP)
        self.train_button.clicked.connect(self.train_requested)
        self.train_note = QLabel("", self)  # what training still needs, said up front
        self.train_note.setObjectName("trainNote")
        self.train_note.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.train_note.setWordWrap(True)
        self.train_note.hide()

        top = QHBoxLayout()
        top.addWidget(header)
        top.addStretch(1)
        top.addWidget(self.busy)
        set_row = QHBoxLayout()
        set_row.addWidget(self._heading("Suggested set", margin=0))
        set_row.addWidget(self.set_note, 1)
        set_row.addWidget(self.set_button)
        foot = QHBoxLayout()
        foot.addWidget(self.personal, 1)
        foot.addWidget(self.train_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.keys_hint)
        layout.addSpacing(4)
        layout.addLayout(set_row)
        layout.addWidget(self.set_tags)
        layout.addWidget(self.models)
        layout.addLayout(foot)
        layout.addWidget(self.train_note)
        self._row_widgets: list[SuggestionRow] = []  # shown, in order
        self._spare: list[SuggestionRow] = []  # hidden, the longest hidden first
        self.show_result(None, "Select a photo or document to see suggestions.")
        self.title.setToolTip("Models: not loaded yet (they load with the first suggestion)")
        self.personal.setText("Personal model: —")
        self._unavailable: dict = {}
        theme.restyle_on_palette_change(self, self._restyle)

    def _restyle(self) -> None:
        """The labels' and rows' colours from the palette (again after a light/dark switch)."""
        muted = _muted()
        for label, extra in ((self.busy, SMALL), (self.message, ""), (self.keys_hint, SMALL),
                             (self.set_note, " font-style: italic;"), (self.train_note, SMALL)):
            label.setStyleSheet(muted + extra)
        self._style_model_lines()
        for row in self._row_widgets + self._spare:
            row.restyle()

    def _style_model_lines(self) -> None:
        """Muted, or in the error colour where a model could not load."""
        unavailable = self._unavailable
        for label, bad in ((self.models, bool(unavailable)),
                           (self.personal, PERSONAL_CONTENT in unavailable)):
            sheet = (f"color: {theme.css(theme.colours().bad)};" if bad else _muted()) + SMALL
            if label.styleSheet() != sheet:  # setting a style sheet restyles, even the same one
                label.setStyleSheet(sheet)

    def _heading(self, text: str, margin: int = 4) -> QLabel:
        label = QLabel(text, self)
        label.setStyleSheet(f"font-weight: bold; margin-top: {margin}px;")
        return label

    # -- display -------------------------------------------------------------------------------
    def set_busy(self, text: str) -> None:
        self.busy.setText(text)

    def show_result(self, result: SuggestResult | None, message: str = "") -> None:
        """Rows of ``result``; without rows, ``message`` (or why there are none).

        The row widgets are kept and reused: a suggestion still shown keeps its row (an
        accept or reject only closes the gap), a new one takes a hidden row, the longest
        hidden first; rows are only ever made when more are shown than ever before.
        """
        rows = result.rows if result is not None else []
        self._rows_box.setUpdatesEnabled(False)  # one repaint for the batch, when it ends
        try:
            self._show_rows(rows)
        finally:
            self._rows_box.setUpdatesEnabled(True)
        if result is not None and not rows and not message:
            message = "No (more) suggestions for this selection."
        if result is not None and result.problems:
            message = (message + "\n" if message else "") + "Could not read: " + "; ".join(
                result.problems)
        if result is not None and result.considered < len(result.item_ids):
            message = (message + "\n" if message else "") + (
                f"Based on the first {result.considered} of {len(result.item_ids)} items.")
        self.message.setText(message)
        self.message.setVisible(bool(message))
        self.show_set(result)
        if result is not None:
            self.set_models(result.models)

    def show_set(self, result: SuggestResult | None) -> None:
        """The generated set as ``tag 31 % · tag 22 % …``, or why there is none."""
        tags = result.generated if result is not None else []
        text = " · ".join(  # non-breaking inside an entry: "47 %" never splits over lines
            f"<b>{escape(s.tag)}</b>&nbsp;{_score_text(s.score).replace(' ', '&nbsp;')}"
            for s in tags)
        note = "" if tags or result is None else (result.generated_note or "no set")
        if self.set_tags.text() != text:
            self.set_tags.setText(text)
        self.set_tags.setVisible(bool(tags))
        self.set_note.setText(note)
        self.set_button.setVisible(bool(tags))

    def _show_rows(self, rows: list[Suggested]) -> None:
        by_tag: dict[str, SuggestionRow] = {}
        for row in self._row_widgets:
            by_tag.setdefault(row.suggestion.tag, row)
        kept = [by_tag.pop(s.tag, None) for s in rows]
        for row in self._row_widgets:
            if row in by_tag.values():  # not shown any more
                row.hide()
                self._spare.append(row)
        shown: list[SuggestionRow] = []
        for n, (s, row) in enumerate(zip(rows, kept, strict=True)):
            if row is None:
                row = self._spare.pop(0) if self._spare else self._new_row()
            row.set_suggestion(n + 1, s)
            if self._rows.indexOf(row) != n:
                self._rows.removeWidget(row)
                self._rows.insertWidget(n, row)
            if row.isHidden():
                row.show()  # a layout only queues the show: without this a row is briefly hidden
            shown.append(row)
        self._row_widgets = shown

    def _new_row(self) -> SuggestionRow:
        row = SuggestionRow(0, Suggested("", 0.0, ""), self._rows_box)
        row.hide()
        row.accept.connect(lambda r=row: self._decide(self.accept_requested, r))
        row.reject.connect(lambda r=row: self._decide(self.reject_requested, r))
        return row

    def _decide(self, signal: SignalInstance, row: SuggestionRow) -> None:
        if row in self._row_widgets:  # a click on a row just hidden decides nothing
            signal.emit(self._row_widgets.index(row))

    def set_models(self, info: dict) -> None:
        """The models as the title's tooltip, the personal model, and (in red) what could
        not load."""
        unavailable = info.get("unavailable") or {}
        content = ", ".join(f"{k} {v}" for k, v in info.items()
                            if k not in ("unavailable", PERSONAL_CONTENT) and v)
        text = f"Content models: {content or 'none'}"
        why = "".join(f"\n{k}: {reason}" for k, reason in unavailable.items())
        personal = info.get(PERSONAL_CONTENT) or "not trained yet"
        self.title.setToolTip(f"{text}\nPersonal model: {personal}"
                              + (f"\nUnavailable:{why}" if why else ""))
        self.models.setText(f"Unavailable: {', '.join(unavailable)}" if unavailable else "")
        self.models.setToolTip(("Suggestions go on without:" + why) if why else "")
        self.models.setVisible(bool(unavailable))
        personal = info.get(PERSONAL_CONTENT)
        self.personal.setText(f"Personal model: {personal or 'not trained yet'}"
                              + (" (unavailable)" if PERSONAL_CONTENT in unavailable else ""))
        self.personal.setToolTip(self.personal.text() + why)
        self._unavailable = dict(unavailable)
        self._style_model_lines()

    def set_training_shortfall(self, missing: int) -> None:
        """Train is enabled once enough photos are tagged; until then it says how many more."""
        ready = missing <= 0
        note = "" if ready else (f"{missing} more tagged photo{'s' if missing != 1 else ''} "
                                 "needed to train")
        self.train_button.setEnabled(ready)
        self.train_button.setToolTip(TRAIN_TIP if ready else f"{note} your personal model")
        self.train_note.setText(note)
        self.train_note.setVisible(not ready)

    def list_overflow(self) -> int:
        """How many px the shown rows need beyond the list's height (negative: the room
        they leave; the window's right column gives the list that much more or less)."""
        view = self.scroll.viewport().height()
        shown = [r for r in self._row_widgets if not r.isHidden()]
        if not shown:
            return -view
        return shown[-1].geometry().bottom() + 1 - view

    def rows(self) -> list[SuggestionRow]:
        return list(self._row_widgets)

    def tags(self) -> list[str]:
        return [r.suggestion.tag for r in self._row_widgets]
