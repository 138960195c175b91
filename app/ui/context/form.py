"""ClinicalContextForm: every ClinicalContext field and the imaging performed, with "unknown"
kept distinct from no / 0.

Yes/no fields are three-way combos (? unknown / yes / no); numbers are line edits where an
empty box means unknown (never 0); choices (neurological deficit, pars block) have an
unknown entry too. Every edit goes straight to ``session.edit_context`` (numbers after a
short pause or when the box loses focus), so the pathway re-evaluates live. The form redraws
from ``session.findings_changed`` (undo, open file, autosave restore).

Fields the session took from the images' DICOM header (``ClinicalContext.from_dicom``: age, sex)
carry a visible "from DICOM" badge; editing such a field makes it the reader's entry (it leaves
``from_dicom``). The "Imaging performed" group edits ``StudyFindings.imaging``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.findings.model import CONTEXT_FIELDS_FROM_DICOM, ClinicalContext, NeuroDeficit, ParsBlock, Sex, SportLevel

COMMIT_DELAY_MS = 500
UNKNOWN_STYLE = "QComboBox { color: #8c9396; font-style: italic; }"
ALARM_STYLE = "QComboBox { color: #ff5252; font-weight: bold; }"
# values that are red flags for the pathway: shown in red in the form too
ALARM_VALUES = {("cauda_equina_symptoms", "yes"), ("neuro_deficit", "progressive"), ("neuro_deficit", "severe"),
                ("slip_progression", "yes")}
FROM_DICOM_TEXT = "from DICOM"
FROM_DICOM_STYLE = "QLabel { color: #4fc3f7; border: 1px solid #4fc3f7; border-radius: 3px; padding: 0 3px; }"


@dataclass(frozen=True)
class Field:
    name: str  # ClinicalContext attribute
    label: str
    kind: str  # "tri" | "number" | "text" | "choice"
    tip: str = ""
    unit: str = ""
    lo: float = 0.0
    hi: float = 0.0
    choices: tuple = ()  # (label, enum value) for "choice"
    target: str = "context"  # "context" (ClinicalContext) or "imaging" (ImagingPerformed)


GROUPS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("Patient", (
        Field("age_years", "Age", "number", "Age in years", "years", 0, 120),
        Field("sex", "Sex", "choice", "Patient sex", choices=(
            ("female", Sex.FEMALE), ("male", Sex.MALE), ("other", Sex.OTHER))),
        Field("skeletally_mature", "Skeletally mature", "tri", "Growth plates closed?"),
        Field("athlete", "Athlete", "tri", "Competitive or regular sport"),
        Field("sport", "Sport", "text", "Which sport (e.g. gymnastics, cricket fast bowling)"),
        Field("sport_level", "Level of sport", "choice", "Recreational, competitive or professional", choices=(
            ("recreational", SportLevel.RECREATIONAL), ("competitive", SportLevel.COMPETITIVE),
            ("professional", SportLevel.PROFESSIONAL))),
    )),
    ("Symptoms and care so far", (
        Field("symptomatic", "Symptomatic", "tri", "Back pain attributed to the spine at all"),
        Field("symptom_duration_months", "Symptom duration", "number", "Months since symptoms began", "months", 0, 1200),
        Field("conservative_care_months", "Conservative care", "number",
              "Months of adequate conservative care completed (activity modification, brace, PT)", "months", 0, 1200),
        Field("pain_vas", "Pain VAS", "number", "Visual analogue scale 0-10", "0–10", 0, 10),
        Field("odi", "ODI", "number", "Oswestry Disability Index 0-100", "0–100", 0, 100),
        Field("disabling_pain", "Disabling pain", "tri", "Pain that limits daily function or sport"),
        Field("radicular_symptoms", "Radicular symptoms", "tri", "Leg pain / paraesthesia in a root distribution"),
    )),
    ("Neurology and red flags", (
        Field("neuro_deficit", "Neurological deficit", "choice", "Motor / sensory / reflex deficit", choices=(
            ("none", NeuroDeficit.NONE), ("stable", NeuroDeficit.STABLE), ("progressive", NeuroDeficit.PROGRESSIVE),
            ("severe", NeuroDeficit.SEVERE))),
        Field("cauda_equina_symptoms", "Cauda equina symptoms", "tri",
              "Saddle anaesthesia, bladder/bowel dysfunction, bilateral leg symptoms — a red flag"),
        Field("slip_progression", "Slip progression", "tri", "Increase in slip on serial standing films"),
    )),
    ("Surgical work-up", (
        Field("pars_block", "Diagnostic pars block", "choice", "Image-guided pars injection with local anaesthetic",
              choices=(("not done", ParsBlock.NOT_DONE), ("positive", ParsBlock.POSITIVE),
                       ("negative", ParsBlock.NEGATIVE))),
        Field("pain_concordant_with_imaging", "Pain concordant with imaging", "tri", "Level and side match the lesion"),
        Field("smoking", "Smoking", "tri"),
        Field("depression_or_chronic_pain", "Depression / chronic pain", "tri"),
        Field("realistic_expectations", "Realistic expectations", "tri", "After counselling"),
        Field("wishes_surgery", "Wishes surgery", "tri", "After counselling"),
    )),
    ("Imaging performed", (
        Field("radiographs", "Radiographs", "tri", "Standing radiographs done (here or elsewhere)", target="imaging"),
        Field("flexion_extension", "Flexion-extension views", "tri", "Dynamic radiographs done", target="imaging"),
        Field("ct", "CT", "tri", "CT of the lumbar spine done", target="imaging"),
        Field("mri", "MRI", "tri", "MRI of the lumbar spine done", target="imaging"),
        Field("spect", "SPECT / bone scan", "tri", "SPECT or bone scintigraphy done", target="imaging"),
    )),
)

ALL_FIELDS: tuple[Field, ...] = tuple(f for _, fs in GROUPS for f in fs)
UNKNOWN_LABEL = "? unknown"


class ClinicalContextForm(QWidget):
    """Compact editor for ``session.context`` (see module docstring)."""

    sig_message = Signal(str)

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ClinicalContextForm")
        self.session = session
        self.widgets: dict[str, QWidget] = {}
        self.dicom_badges: dict[str, QLabel] = {}  # field -> its "from DICOM" badge
        self._timers: dict[str, QTimer] = {}
        self._updating = False

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        intro = QLabel("Clinical facts the pathway uses. Leave a field at “? unknown” / empty when it is "
                       "not known — unknown is not the same as no or 0.", self)
        intro.setWordWrap(True)
        intro.setObjectName("hint")
        outer.addWidget(intro)

        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        self._grid = grid
        self._boxes: list[QGroupBox] = []
        self._columns = 2
        for i, (title, fields) in enumerate(GROUPS):
            box = QGroupBox(title, self)
            form = QFormLayout(box)
            form.setContentsMargins(6, 4, 6, 4)
            form.setVerticalSpacing(3)
            for f in fields:
                w = self._make_widget(f, box)
                label = QLabel(f.label + (f" ({f.unit})" if f.unit else ""), box)
                label.setToolTip(f.tip)
                form.addRow(label, self._with_dicom_badge(f, w, box))
                self.widgets[f.name] = w
            grid.addWidget(box, i // 2, i % 2)
            self._boxes.append(box)
        outer.addLayout(grid)

        bottom = QHBoxLayout()
        self.message_label = QLabel("", self)
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #ff8a80;")
        bottom.addWidget(self.message_label, 1)
        self.clear_button = QPushButton("Set all to unknown", self)
        self.clear_button.setToolTip("Reset every clinical fact to unknown (undoable; the imaging performed is kept)")
        self.clear_button.clicked.connect(lambda: self.session.set_context(ClinicalContext()))
        bottom.addWidget(self.clear_button)
        outer.addLayout(bottom)
        outer.addStretch(1)

        session.findings_changed.connect(self._on_findings_changed)
        self._on_findings_changed()

    # ------------------------------------------------------------------ widgets
    def _make_widget(self, f: Field, parent: QWidget) -> QWidget:
        if f.kind in ("tri", "choice"):
            combo = QComboBox(parent)
            combo.addItem(UNKNOWN_LABEL, "")
            if f.kind == "tri":
                combo.addItem("yes", "yes")
                combo.addItem("no", "no")
            else:
                for label, value in f.choices:
                    combo.addItem(label, value.value)
            combo.setToolTip(f.tip)
            combo.currentIndexChanged.connect(lambda _i, name=f.name: self._combo_changed(name))
            combo.currentIndexChanged.connect(lambda _i, c=combo, name=f.name: self._style_combo(c, name))
            self._style_combo(combo, f.name)
            return combo
        edit = QLineEdit(parent)
        edit.setToolTip(f.tip)
        if f.kind == "number":
            edit.setPlaceholderText("unknown")
            edit.setMaximumWidth(110)
        else:
            edit.setPlaceholderText("—")
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(COMMIT_DELAY_MS)
        timer.timeout.connect(lambda name=f.name: self._commit_text(name))
        self._timers[f.name] = timer
        edit.textEdited.connect(lambda _t, t=timer: t.start())
        edit.editingFinished.connect(lambda name=f.name: self._commit_text(name))
        return edit

    def _with_dicom_badge(self, f: Field, w: QWidget, parent: QWidget) -> QWidget:
        """``w``, beside a "from DICOM" badge when the field can come from the header."""
        if f.target != "context" or f.name not in CONTEXT_FIELDS_FROM_DICOM:
            return w
        row = QWidget(parent)
        lay = QHBoxLayout(row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(w)
        badge = QLabel(FROM_DICOM_TEXT, row)
        badge.setStyleSheet(FROM_DICOM_STYLE)
        badge.setToolTip("Taken from the images' DICOM header, not entered by the reader; editing it makes it yours")
        badge.setVisible(False)
        lay.addWidget(badge)
        lay.addStretch(1)
        self.dicom_badges[f.name] = badge
        return row

    @staticmethod
    def _style_combo(combo: QComboBox, name: str) -> None:
        data = combo.currentData() or ""
        if data == "":
            combo.setStyleSheet(UNKNOWN_STYLE)
        elif (name, data) in ALARM_VALUES:
            combo.setStyleSheet(ALARM_STYLE)
        else:
            combo.setStyleSheet("")

    def _field(self, name: str) -> Field:
        for f in ALL_FIELDS:
            if f.name == name:
                return f
        raise KeyError(name)

    # ------------------------------------------------------------------ widgets -> session
    def _combo_changed(self, name: str) -> None:
        if self._updating:
            return
        combo = self.widgets[name]
        data = combo.currentData() or ""
        f = self._field(name)
        if data == "":
            value: Any = None
        elif f.kind == "tri":
            value = data == "yes"
        else:
            value = type(f.choices[0][1])(data)
        self._apply(name, value)

    def _commit_text(self, name: str) -> None:
        timer = self._timers.get(name)
        if timer is not None:
            timer.stop()
        if self._updating:
            return
        f = self._field(name)
        edit: QLineEdit = self.widgets[name]  # type: ignore[assignment]
        text = edit.text().strip()
        if f.kind == "text":
            self._apply(name, text)
            return
        if text == "":
            value = None
        else:
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                self._mark(edit, f"{f.label}: “{text}” is not a number")
                return
            if not (f.lo <= value <= f.hi):
                self._mark(edit, f"{f.label} must be within {f.lo:g}–{f.hi:g}")
                return
        self._apply(name, value)

    def _apply(self, name: str, value: Any) -> None:
        f = self._field(name)
        if self._value(f) == value:
            self._clear_mark(self.widgets[name])
            return
        try:
            if f.target == "imaging":
                findings = self.session.findings
                self.session.set_findings(dataclasses.replace(findings, imaging=dataclasses.replace(
                    findings.imaging, **{name: value})))
            else:  # an edited header value becomes the reader's entry
                self.session.edit_context(**{name: value, "from_dicom": self.session.context.from_dicom - {name}})
        except (TypeError, ValueError) as exc:
            self._mark(self.widgets[name], str(exc))
            return
        self._clear_mark(self.widgets[name])

    def commit_pending(self) -> None:
        """Commit any number still waiting for its typing pause."""
        for name, timer in self._timers.items():
            if timer.isActive():
                self._commit_text(name)

    def _mark(self, w: QWidget, text: str) -> None:
        w.setProperty("invalid", True)
        w.setStyleSheet("border: 1px solid #ff5252;")
        self.message_label.setText(f"Not changed: {text}")
        self.sig_message.emit(text)

    def _clear_mark(self, w: QWidget) -> None:
        if w.property("invalid"):
            w.setProperty("invalid", False)
            w.setStyleSheet("")
            self.message_label.setText("")

    # ------------------------------------------------------------------ session -> widgets
    def _value(self, f: Field) -> Any:
        source = self.session.findings.imaging if f.target == "imaging" else self.session.context
        return getattr(source, f.name)

    def _on_findings_changed(self, *_: Any) -> None:
        from_dicom = self.session.context.from_dicom
        for name, badge in self.dicom_badges.items():
            badge.setVisible(name in from_dicom)
        self._updating = True
        try:
            for f in ALL_FIELDS:
                w = self.widgets[f.name]
                value = self._value(f)
                if isinstance(w, QComboBox):
                    if value is None:
                        key = ""
                    elif isinstance(value, bool):
                        key = "yes" if value else "no"
                    else:
                        key = value.value
                    i = w.findData(key)
                    if i < 0:
                        i = 0
                    if w.currentIndex() != i:
                        w.setCurrentIndex(i)
                else:
                    timer = self._timers.get(f.name)
                    if (timer is not None and timer.isActive()) or w.property("invalid"):
                        continue  # the reader is typing there
                    text = "" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
                    if w.text() != text:
                        w.setText(text)
        finally:
            self._updating = False

    # ------------------------------------------------------------------ layout
    TWO_COLUMN_MIN_WIDTH = 640

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._reflow(event.size().width())

    def _reflow(self, width: int) -> None:
        """Two columns of groups when wide, one when the dock is narrow."""
        columns = 2 if width >= self.TWO_COLUMN_MIN_WIDTH else 1
        if columns == self._columns:
            return
        self._columns = columns
        for box in self._boxes:
            self._grid.removeWidget(box)
        for i, box in enumerate(self._boxes):
            self._grid.addWidget(box, i // columns, i % columns)

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> None:
        self.commit_pending()
        with contextlib.suppress(Exception):
            self.session.findings_changed.disconnect(self._on_findings_changed)

    def closeEvent(self, event: Any) -> None:
        self.cleanup()
        super().closeEvent(event)
