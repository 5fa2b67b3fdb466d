"""The suggestion panel: ranked tags for the selection, SOG's generated set, training.

A thin view: it shows a :class:`~tagassist.ui.suggest_jobs.SuggestResult` (or a message) and
emits intent — accept/reject the n-th row, train — that the main window routes to the
controller.  Row n answers to number key n (the window owns the shortcuts); a decided row
(:class:`~tagassist.ui.suggest_controller.Decided`) stays in place, marked accepted or
rejected.  The models behind the suggestions are the title's tooltip (and in Settings); only
a model that could not load is shown in the panel.
"""

from __future__ import annotations

from html import escape

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

from tagassist.suggest.model_store import PERSONAL_CONTENT
from tagassist.ui.suggest_controller import Decided
from tagassist.ui.suggest_jobs import Suggested, SuggestResult

KEYS_HELP = "1–9 accept · Alt+1–9 reject · A all ≥ {threshold} % · X reject the rest"
SET_EXPLAINED = ("A set of tags generated one at a time, each given the photo's image words, "
                 "place, time, title and the tags already chosen (SOG). G accepts the set.")
_MUTED = "color: #6b7280;"
TRAIN_TIP = "Train your personal model from the photos you tagged"
REASON_SEP = " · "
_ROW_STYLE = {  # the row's look per state: open, accepted, rejected
    "": "",
    "accepted": "QFrame#suggestionRow { background: #e9f5ed; border-radius: 4px; }",
    "rejected": "QFrame#suggestionRow { background: #f3f4f6; border-radius: 4px; }",
}


class ElidedLabel(QLabel):
    """One line of text, elided with … when too narrow; the full text is the tooltip."""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setToolTip(text)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self):  # noqa: N802 - Qt API: may shrink below the text's width
        hint = super().minimumSizeHint()
        hint.setWidth(16)
        return hint

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt API
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

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
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
        key.setStyleSheet("border: 1px solid #c5cad3; border-radius: 3px; background: #f6f7f9;"
                          " color: #4b5563; font-size: 11px;")
        self.name = ElidedLabel("", self)
        self.name.setObjectName("tagName")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("scoreBar")
        self.bar.setRange(0, 100)
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(52, 7)
        self.bar.setStyleSheet("QProgressBar { border: none; border-radius: 3px;"
                               " background: #e5e8ee; }"
                               "QProgressBar::chunk { border-radius: 3px; background: #4a7fd4; }")
        self.score = score = QLabel(self)
        score.setObjectName("score")
        score.setFixedWidth(36)
        score.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        score.setStyleSheet(_MUTED + " font-size: 11px;")
        score.setToolTip("Estimated probability that you keep this tag")
        self.decision = QLabel(self)
        self.decision.setObjectName("decision")
        self.decision.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.decision.hide()
        self.state = ""  # "", "accepted" or "rejected"
        self.reason = ReasonLabel(self)
        self.reason.setObjectName("reason")
        self.reason.setStyleSheet(_MUTED + " font-size: 11px;")
        self.accept_button = self._button("✓", "#1f7a3a")
        self.reject_button = self._button("✕", "#9b1c1c")
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
        self.set_suggestion(position, s)

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

    def _set_state(self, state: str) -> None:
        """Open, or marked accepted / rejected in place (its number stays; no buttons)."""
        if state == self.state:
            return
        self.state = state
        self.setStyleSheet(_ROW_STYLE[state])
        # From the row's font, not the name's: that one carries the accepted style's bold,
        # which set back explicitly would stay on every suggestion this row shows later.
        font = QFont(self.font())
        font.setStrikeOut(state == "rejected")
        self.name.setFont(font)
        self.name.setStyleSheet({"accepted": "color: #1f7a3a; font-weight: bold;",
                                 "rejected": _MUTED}.get(state, ""))
        self.decision.setText({"accepted": "✓ added", "rejected": "✕ rejected"}.get(state, ""))
        self.decision.setStyleSheet("font-size: 11px; " + (
            "color: #1f7a3a;" if state == "accepted" else _MUTED))
        for w in (self.bar, self.score):
            w.setVisible(not state)
        self.decision.setVisible(bool(state))
        for b in (self.accept_button, self.reject_button):
            b.setEnabled(not state)
            b.setVisible(not state)

    def _button(self, text: str, colour: str) -> QToolButton:
        b = QToolButton(self)
        b.setText(text)
        b.setAutoRaise(True)
        b.setFixedSize(22, 22)
        b.setCursor(Qt.CursorShape.PointingHandCursor)
        b.setStyleSheet(f"QToolButton {{ color: {colour}; font-weight: bold; }}")
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
        self.busy.setStyleSheet(_MUTED + " font-size: 11px;")
        self.message = QLabel(self)
        self.message.setObjectName("suggestMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(_MUTED)

        self._rows_box = QWidget(self)
        self._rows = QVBoxLayout(self._rows_box)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(0)
        self._rows.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidget(self._rows_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.keys_hint = ElidedLabel(keys, self)
        self.keys_hint.setObjectName("keysHint")
        self.keys_hint.setStyleSheet(_MUTED + " font-size: 11px;")

        self.set_note = QLabel("", self)
        self.set_note.setObjectName("generatedSetNote")
        self.set_note.setWordWrap(True)
        self.set_note.setToolTip(SET_EXPLAINED)
        self.set_note.setStyleSheet(_MUTED + " font-style: italic;")
        self.set_tags = QLabel("", self)
        self.set_tags.setObjectName("generatedSet")
        self.set_tags.setWordWrap(True)
        self.set_tags.setToolTip(SET_EXPLAINED)
        self.set_button = QPushButton("Accept set (G)", self)
        self.set_button.setObjectName("acceptSetButton")
        self.set_button.setToolTip("Add every tag of the generated set to the photo")
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
        self.train_button.clicked.connect(self.train_requested)
        self.train_note = QLabel("", self)  # what training still needs, said up front
        self.train_note.setObjectName("trainNote")
        self.train_note.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.train_note.setWordWrap(True)
        self.train_note.setStyleSheet(_MUTED + " font-size: 11px;")
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
        for label in (self.models, self.personal):
            label.setStyleSheet(_MUTED + " font-size: 11px;")

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

    def _decide(self, signal, row: SuggestionRow) -> None:
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
        for label, bad in ((self.models, bool(unavailable)),
                           (self.personal, PERSONAL_CONTENT in unavailable)):
            sheet = ("color: #b00020;" if bad else _MUTED) + " font-size: 11px;"
            if label.styleSheet() != sheet:  # setting a style sheet restyles, even the same one
                label.setStyleSheet(sheet)

    def set_training_shortfall(self, missing: int) -> None:
        """Train is enabled once enough photos are tagged; until then it says how many more."""
        ready = missing <= 0
        note = "" if ready else (f"{missing} more tagged photo{'s' if missing != 1 else ''} "
                                 "needed to train")
        self.train_button.setEnabled(ready)
        self.train_button.setToolTip(TRAIN_TIP if ready else f"{note} your personal model")
        self.train_note.setText(note)
        self.train_note.setVisible(not ready)

    def rows(self) -> list[SuggestionRow]:
        return list(self._row_widgets)

    def tags(self) -> list[str]:
        return [r.suggestion.tag for r in self._row_widgets]
