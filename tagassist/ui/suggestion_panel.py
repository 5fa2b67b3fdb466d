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
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from tagassist.app.suggest_jobs import Suggested, SuggestResult
from tagassist.suggest.model_store import PERSONAL_CONTENT
from tagassist.ui import theme
from tagassist.ui.suggestion_row import SMALL, ElidedLabel, SuggestionRow, muted_style, score_text

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

KEYS_HELP = "1–9 accept · Alt+1–9 reject · A all ≥ {threshold} % · X reject the rest"
SET_EXPLAINED = ("A set of tags generated one at a time, each given the photo's image words, "
                 "place, time, title and the tags already chosen (SOG). G accepts the set.")
TRAIN_TIP = "Train your personal model from the photos you tagged"


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
        muted = muted_style()
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
            sheet = (f"color: {theme.css(theme.colours().bad)};" if bad else muted_style()) + SMALL
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
            f"<b>{escape(s.tag)}</b>&nbsp;{score_text(s.score).replace(' ', '&nbsp;')}"
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
