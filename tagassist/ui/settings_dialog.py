"""The settings dialog: who is tagging, where the library is, how XMP sidecars are named,
which models run on what device, and the thumbnail size.

It shows a :class:`SettingsState` and returns a :class:`SettingsChoice`; applying the choice
(switching person, reopening a library, persisting) is the main window's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tagassist.ui import settings, theme
from tagassist.ui.settings import THUMB_MAX, THUMB_MIN

if TYPE_CHECKING:
    from collections.abc import Iterable

    from PySide6.QtWidgets import QLayout


@dataclass(frozen=True)
class SettingsState:
    users: list[str]
    user: str
    library: Path
    database: Path
    cache: Path
    models_dir: Path
    device: str  # what the loaded models run on, or what they will run on
    models: dict[str, str] = field(default_factory=dict)  # model -> version (or why missing)
    thumbnail_size: int = 128
    analyse_after_import: bool = True
    retrain_after: int = 50
    always_show_set: bool = False
    # how new XMP sidecars are named (settings.sidecar_convention); the remembered one if not given
    sidecar_convention: str = field(default_factory=settings.sidecar_convention)


# The sidecar names offered, as (convention, what the list shows).
SIDECAR_CHOICES = (
    ("auto", "Automatic: the name already there"),
    ("basename", "photo.xmp (Lightroom, Capture One)"),
    ("filename", "photo.jpg.xmp (darktable, digiKam)"),
)


@dataclass(frozen=True)
class SettingsChoice:
    user: str
    thumbnail_size: int
    analyse_after_import: bool
    retrain_after: int = 50
    always_show_set: bool = False
    open_library: Path | None = None  # another library folder to open instead of this one
    sidecar_convention: str | None = None  # None: not chosen here, the remembered one stays


def _path_label(path: Path, parent: QWidget) -> QLabel:
    label = QLabel(str(path), parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    label.setToolTip(str(path))
    return label


class SettingsDialog(QDialog):
    def __init__(self, state: SettingsState, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(520)
        self._state = state
        self._open_library: Path | None = None

        self.person = QComboBox(self)
        self.person.setObjectName("person")
        self.person.setEditable(True)  # typing a new name adds a person to this library
        self.person.addItems(state.users)
        self.person.setCurrentText(state.user)
        self.person.setAccessibleName("Tagging as")
        self.person.setAccessibleDescription(
            "The person whose tags, decisions and personal model are used; type a new name"
            " to add someone")
        if self.person.lineEdit() is not None:
            self.person.lineEdit().setAccessibleName("Name of the person tagging")
        self.person.view().setAccessibleName("People in this library")

        self.thumbs = QSlider(Qt.Orientation.Horizontal, self)
        self.thumbs.setObjectName("thumbnailSize")
        self.thumbs.setRange(THUMB_MIN, THUMB_MAX)
        self.thumbs.setSingleStep(16)
        self.thumbs.setPageStep(32)
        self.thumbs.setValue(state.thumbnail_size)
        self.thumbs.setAccessibleName("Thumbnail size")
        self.thumbs.setAccessibleDescription(
            f"The grid's thumbnails, from {THUMB_MIN} to {THUMB_MAX} pixels")
        thumb_value = QLabel(f"{state.thumbnail_size} px", self)
        thumb_value.setMinimumWidth(56)
        self.thumbs.valueChanged.connect(lambda v: thumb_value.setText(f"{v} px"))
        thumb_row = QHBoxLayout()
        thumb_row.addWidget(self.thumbs, 1)
        thumb_row.addWidget(thumb_value)

        self.analyse = QCheckBox("Analyse new items right after an import", self)
        self.analyse.setChecked(state.analyse_after_import)
        self.analyse.setAccessibleName("Analyse new items right after an import")
        self.analyse.setToolTip("Computes what the models need in the background, so "
                                "suggestions for new photos appear at once.")

        self.retrain = QSpinBox(self)
        self.retrain.setObjectName("retrainAfter")
        self.retrain.setRange(0, 10000)
        self.retrain.setSingleStep(10)
        self.retrain.setSpecialValueText("only when asked")
        self.retrain.setSuffix(" decisions")
        self.retrain.setValue(state.retrain_after)
        self.retrain.setAccessibleName("Retrain my suggestions after this many decisions")
        for field_ in self.retrain.findChildren(QLineEdit):  # the box's own text field
            field_.setAccessibleName("Decisions before retraining")
        self.retrain.setToolTip("After this many accepted or rejected suggestions your "
                                "personal model is updated in the background (0: only with "
                                "Suggestions ▸ Train my suggestions).")

        self.show_set = QCheckBox("Always show the generated set", self)
        self.show_set.setObjectName("alwaysShowSet")
        self.show_set.setChecked(state.always_show_set)
        self.show_set.setAccessibleName("Always show the generated set")
        self.show_set.setToolTip("Off: the generated set is shown once your own tagging shows "
                                 "it is kept more often than the ranked list (checked by each "
                                 "training); until then the panel says why it is hidden.")

        self.sidecars = QComboBox(self)
        self.sidecars.setObjectName("sidecarConvention")
        for convention, text in SIDECAR_CHOICES:
            self.sidecars.addItem(text, convention)
        known = self.sidecars.findData(state.sidecar_convention)
        self.sidecars.setCurrentIndex(max(0, known))
        self.sidecars.setAccessibleName("Name of new XMP sidecars")
        self.sidecars.view().setAccessibleName("Sidecar names")
        self.sidecars.setToolTip("How sidecars written with your keywords are named. "
                                 "Automatic keeps the name of a sidecar already next to the "
                                 "photo, else writes photo.jpg.xmp (photo.xmp for RAW files). "
                                 "photo.jpg beside photo.png never share photo.xmp: each gets "
                                 "its own photo.jpg.xmp / photo.png.xmp.")

        other = QPushButton("Open another library…", self)
        other.setObjectName("openLibrary")
        other.setAccessibleName("Open another library")
        other.setAccessibleDescription("Closes this library and opens the one in another folder")
        other.clicked.connect(self._choose_library)

        hint = QLabel("Each person has their own tags, decisions and personal model. "
                      "Type a new name to add someone.", self)
        hint.setWordWrap(True)
        hint.setStyleSheet(f"color: {theme.css(theme.colours().muted)};")  # a short-lived dialog
        person_box = self._group("Person", [("Tagging as", self.person), ("", hint)])
        library_box = self._group("Library", [
            ("Folder", _path_label(state.library, self)),
            ("Database", _path_label(state.database, self)),
            ("Thumbnail cache", _path_label(state.cache, self)),
            ("", other),
            ("", self.analyse),
            ("XMP sidecars", self.sidecars),
        ])
        model_rows: list[tuple[str, QWidget]] = [
            ("Folder", _path_label(state.models_dir, self)),
            ("Runs on", self._device_label(state.device)),
        ]
        model_rows += [(name, QLabel(version, self)) for name, version in state.models.items()]
        model_rows.append(("Retrain after", self.retrain))
        model_rows.append(("", self.show_set))
        models_box = self._group("Models", model_rows)
        display_box = self._group("Display", [("Thumbnail size", thumb_row)])

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel, self)
        # what the tooltip says
        for explained in (self.analyse, self.retrain, self.show_set, self.sidecars):
            explained.setAccessibleDescription(explained.toolTip())
        for standard, name in ((QDialogButtonBox.StandardButton.Ok, "Save the settings"),
                               (QDialogButtonBox.StandardButton.Cancel,
                                "Close without saving")):
            buttons.button(standard).setAccessibleName(name)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        column = QVBoxLayout(self)
        for box in (person_box, library_box, models_box, display_box):
            column.addWidget(box)
        column.addWidget(buttons)
        # never shorter than its rows need: it opened 13 px short of its size hint (its wrapped
        # labels' height depends on the width) and squeezed "Retrain after" to 19 of 23 px
        self.setMinimumHeight(self.sizeHint().height())

    def _group(self, title: str, rows: Iterable[tuple[str, QWidget | QLayout]]) -> QGroupBox:
        box = QGroupBox(title, self)
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in rows:  # a widget or a layout
            form.addRow(label, widget)
            if label and isinstance(widget, QWidget) and not widget.accessibleName():
                widget.setAccessibleName(f"{title}: {label}")  # "Library: Database"
        return box

    def _device_label(self, device: str) -> QLabel:
        """Where the models run, and why the CPU when not CUDA: one line from describe()."""
        label = QLabel(device, self)
        label.setObjectName("device")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # to quote
        label.setToolTip("CUDA runs the models when onnxruntime finds a working NVIDIA GPU "
                         "and its libraries (the gpu extra); otherwise the CPU does, and this "
                         "line says why. Set TAGASSIST_DEVICE=cpu to always use the CPU.")
        label.setAccessibleDescription(label.toolTip())
        return label

    def _choose_library(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open library folder",
                                                  str(self._state.library.parent))
        if folder:
            self._open_library = Path(folder)
            self.accept()

    def choice(self) -> SettingsChoice:
        return SettingsChoice(user=self.person.currentText().strip() or self._state.user,
                              thumbnail_size=self.thumbs.value(),
                              analyse_after_import=self.analyse.isChecked(),
                              retrain_after=self.retrain.value(),
                              always_show_set=self.show_set.isChecked(),
                              open_library=self._open_library,
                              sidecar_convention=self.sidecars.currentData())
