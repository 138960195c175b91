"""FindingsTableModel: a QAbstractTableModel adapter over a StudySession.

Two sections share one class: ``section="pars"`` (one row per level and side) and
``section="levels"`` (one row per level: slip of that level on the one below, disc below it).
Reading goes through ``session.findings``; writing calls ``session.edit_pars`` /
``session.edit_level`` and the table refreshes from ``session.findings_changed``, so the
session stays the single source of truth (no widget keeps its own copy).

Roles: DisplayRole is the text shown; EditRole is a plain value for the editor (enum value
string, float or "" for unknown); ``CHOICES_ROLE`` lists (label, value) pairs for combo
columns; ``KIND_ROLE`` names the editor ("choice", "float", "edema", None = read-only).
The edema column's EditRole is "", "no", "yes" or "yes:pars,pedicle" (sites imply yes).
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont

from app.findings import model as findings_model
from app.findings.table_values import (
    HOLLENBERG_LABELS,
    ROMAN,
    STATUS_LABELS,
    TRI_CHOICES,
    UNKNOWN,
    enum_or_none,
    fmt_num,
    parse_edema,
    parse_float,
    parse_tri,
    tri_label,
)

log = logging.getLogger(__name__)

CHOICES_ROLE = Qt.ItemDataRole.UserRole + 1
KIND_ROLE = Qt.ItemDataRole.UserRole + 2
FLAG_ROLE = Qt.ItemDataRole.UserRole + 3  # truthy when the cell carries a warning flag

ALL_LEVELS = (findings_model.Level.L1, findings_model.Level.L2, findings_model.Level.L3,
              findings_model.Level.L4, findings_model.Level.L5)
# pars defects are almost always at L5, then L4: the short list keeps the table compact
DEFAULT_LEVELS = (findings_model.Level.L3, findings_model.Level.L4, findings_model.Level.L5)
WARN_BG = QColor("#5a4a12")
OVERRIDE_FG = QColor("#f0c674")
DERIVED_FG = QColor("#9fb7d0")

@dataclass(frozen=True)
class Column:
    key: str
    title: str
    tip: str
    kind: str | None = None  # editor kind; None = read-only
    choices: tuple = ()


# ------------------------------------------------------------------ pars section
PARS_COLUMNS = (
    Column("level", "Pars", "Vertebral level and side (L = left, R = right)"),
    Column("status", "Status", "Reader's assessment of the pars interarticularis; '—' = not assessed",
           "choice", (("— not assessed", ""), *tuple((lbl, s.value) for s, lbl in STATUS_LABELS.items()))),
    Column("edema", "Edema (sites)", "Bone-marrow edema (STIR/T2-FS): yes / no / ? not assessed, and where "
           "(pars, pedicle, body)", "edema"),
    Column("gap", "Gap mm", "Width of the fracture gap in mm (empty = not measured)", "float"),
    Column("mri", "Hollenberg", "MRI grade (Hollenberg 2002), derived from status x edema; pick a value to override",
           "choice", (("auto (derived)", ""), *tuple((lbl, str(g)) for g, lbl in HOLLENBERG_LABELS.items()))),
    Column("ct", "CT stage", "CT stage (pre-lysis / early / progressive / terminal), derived approximately from the "
           "pars entry (no validated crosswalk exists); pick a value to override",
           "choice", (("auto (derived)", ""), *tuple((s.value, s.value) for s in findings_model.CTStage))),
)

# ------------------------------------------------------------------ level section
LEVEL_COLUMNS = (
    Column("level", "Level", "Motion segment: slip of the upper vertebra on the one below"),
    Column("slip", "Slip %", "Percent slip (Taillard); empty = no slip measured", "float"),
    Column("meyerding", "Meyerding", "Meyerding grade from percent slip (upper-inclusive 25/50/75/100 %); "
           "⚠ = within ±3 % of a boundary, check the measurement"),
    Column("angle", "Slip ∠ °", "Slip angle in degrees (needs a percent slip)", "float"),
    Column("pfirrmann", "Pfirrmann", "Disc below this level, Pfirrmann grade I-V (III+ = degenerated)",
           "choice", (("?", ""), *tuple((r, str(i)) for i, r in enumerate(("I", "II", "III", "IV", "V"), 1)))),
    Column("hypoplasia", "Hypoplasia", "Neural-arch hypoplasia / dysplasia", "choice", TRI_CHOICES),
    Column("stenosis", "Foramina", "Foraminal stenosis severity", "choice",
           (("?", ""), *tuple((s.value, s.value) for s in findings_model.Severity))),
    Column("instability", "Instability", "Dynamic instability on flexion-extension views", "choice", TRI_CHOICES),
)

class FindingsTableModel(QAbstractTableModel):
    """Table adapter over ``session.findings`` (see module docstring)."""

    sig_edit_failed = Signal(str)  # plain message when the session refused an edit

    def __init__(self, session: Any, section: str = "pars", parent: Any = None,
                 levels: tuple = DEFAULT_LEVELS) -> None:
        super().__init__(parent)
        if section not in ("pars", "levels"):
            raise ValueError(f"section must be 'pars' or 'levels', got {section!r}")
        self.session = session
        self.section = section
        self._levels = tuple(findings_model.Level(lv) for lv in levels)
        self.columns = PARS_COLUMNS if section == "pars" else LEVEL_COLUMNS
        self._rows = self._row_keys()
        self._shown = session.findings  # the findings the rows show (compared on each change)
        self.last_error = ""
        session.findings_changed.connect(self._on_findings_changed)

    # ---------------------------------------------------------------- lifecycle
    def detach(self) -> None:
        """Stop listening to the session (call from the owning widget's cleanup)."""
        with contextlib.suppress(Exception):  # already disconnected
            self.session.findings_changed.disconnect(self._on_findings_changed)

    def set_levels(self, levels: tuple) -> None:
        """Levels always listed (levels with an entry are listed anyway)."""
        self._levels = tuple(findings_model.Level(lv) for lv in levels)
        keys = self._row_keys()
        if keys != self._rows:
            self.beginResetModel()
            self._rows = keys
            self.endResetModel()

    @property
    def levels(self) -> tuple:
        return self._levels

    def _row_keys(self) -> list:
        f = self.session.findings
        if self.section == "pars":
            levels = set(self._levels) | {p.level for p in f.pars}
            return [(lv, sd) for lv in findings_model.Level if lv in levels for sd in findings_model.Side]
        levels = set(self._levels) | {lv.level for lv in f.levels}
        return [lv for lv in findings_model.Level if lv in levels]

    def _on_findings_changed(self, *_: Any) -> None:
        """Rows added or removed: reset; otherwise dataChanged for the rows whose finding changed
        only (each row shows its own pars / level entry and nothing else)."""
        before, self._shown = self._shown, self.session.findings
        keys = self._row_keys()
        if keys != self._rows:
            self.beginResetModel()
            self._rows = keys
            self.endResetModel()
            return
        changed = [r for r, key in enumerate(self._rows) if self._entry(before, key) != self._entry(self._shown, key)]
        for first, last in _runs(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))

    def _entry(self, findings: findings_model.StudyFindings, key: Any) -> Any:
        return findings.pars_at(*key) if self.section == "pars" else findings.level(key)

    # ---------------------------------------------------------------- Qt API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            col = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.title
            if role == Qt.ItemDataRole.ToolTipRole:
                return col.tip
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole and 0 <= section < len(self._rows):
            return str(section + 1)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        col = self.columns[index.column()]
        if col.kind is not None and self._editable(index.row(), col.key):
            base |= Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)) or not (0 <= index.column() < len(self.columns)):
            return None
        col = self.columns[index.column()]
        if role == KIND_ROLE:
            return col.kind
        if role == CHOICES_ROLE:
            return list(col.choices) if col.choices else None
        if self.section == "pars":
            return self._pars_data(self._rows[index.row()], col, role)
        return self._level_data(self._rows[index.row()], col, role)

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        if not (self.flags(index) & Qt.ItemFlag.ItemIsEditable):
            return False
        col = self.columns[index.column()]
        key = self._rows[index.row()]
        try:
            if self.section == "pars":
                self._set_pars(key, col.key, value)
            else:
                self._set_level(key, col.key, value)
        except (ValueError, TypeError) as exc:
            self.last_error = str(exc)
            self.sig_edit_failed.emit(self.last_error)
            return False
        self.last_error = ""
        return True

    # ---------------------------------------------------------------- helpers
    def row_key(self, row: int) -> Any:
        return self._rows[row]

    def column_of(self, key: str) -> int:
        for i, c in enumerate(self.columns):
            if c.key == key:
                return i
        raise KeyError(key)

    def _editable(self, row: int, key: str) -> bool:
        f = self.session.findings
        if self.section == "pars":
            level, side = self._rows[row]
            p = f.pars_at(level, side)
            if p is None:
                return key == "status"
            if key == "gap":
                return p.status.fracture_extent != "none"
            return True
        lv = f.level(self._rows[row])
        if key == "angle":
            return lv is not None and lv.slip is not None
        return True

    # pars ---------------------------------------------------------------
    def _pars_data(self, key: tuple, col: Column, role: int) -> Any:
        level, side = key
        p = self.session.findings.pars_at(level, side)
        Role = Qt.ItemDataRole
        if role == Role.TextAlignmentRole:
            return int(
                Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if col.key == "gap" else Qt.AlignmentFlag.AlignLeft)
            )
        if col.key == "level":
            if role in (Role.DisplayRole, Role.EditRole):
                return f"{level.value} {'L' if side is findings_model.Side.LEFT else 'R'}"
            if role == Role.ToolTipRole:
                return f"{level.value} {side.value} pars"
            if role == Role.FontRole:
                f = QFont()
                f.setBold(p is not None)
                return f
            return None
        if p is None:
            if role == Role.DisplayRole:
                return "—" if col.key == "status" else ""
            if role == Role.EditRole:
                return ""
            if role == Role.ForegroundRole:
                return QBrush(QColor("#777777"))
            return None
        if col.key == "status":
            if role == Role.DisplayRole:
                return STATUS_LABELS[p.status]
            if role == Role.EditRole:
                return p.status.value
            if role == Role.ForegroundRole and p.status.is_defect:
                return QBrush(QColor("#ff9e80"))
            return None
        if col.key == "edema":
            sites = [x.value for x in findings_model.EdemaSite if x in p.edema.sites]
            if role == Role.DisplayRole:
                text = tri_label(p.edema_present)
                return f"{text}: {', '.join(sites)}" if sites else text
            if role == Role.EditRole:
                v = p.edema.present
                if v is None:
                    return ""
                return ("yes:" + ",".join(sites) if sites else "yes") if v else "no"
            if role == Role.ToolTipRole and p.edema.present is None and p.edema_present:
                return "implied by 'stress reaction'"
            if role == Role.ForegroundRole and p.edema_present:
                return QBrush(QColor("#80cbff"))
            return None
        if col.key == "gap":
            if role == Role.DisplayRole:
                return fmt_num(p.gap_mm)
            if role == Role.EditRole:
                return "" if p.gap_mm is None else p.gap_mm
            return None
        if col.key == "mri":
            derived, override = p.mri_grade_derived, p.mri_grade_override
            if role == Role.DisplayRole:
                d = "—" if derived is None else str(derived)
                if override is not None:
                    return f"{override} (override; derived {d})"
                return d if derived is not None else "— (no grade)"
            if role == Role.EditRole:
                return "" if override is None else str(override)
            if role == Role.ForegroundRole:
                return QBrush(OVERRIDE_FG if override is not None else DERIVED_FG)
            if role == Role.ToolTipRole:
                ang = findings_model.ang_grade(p.status, p.edema_present)
                t = "Hollenberg grade derived from status x edema" + (f" (Ang {ang})" if ang else "")
                if derived is None and p.status.fracture_extent == "incomplete":
                    t += "; an incomplete fracture without edema has no Hollenberg grade"
                if override is not None:
                    t += f"; reader override {override}"
                return t
            return None
        if col.key == "ct":
            derived, override = p.ct_stage_derived, p.ct_stage_override
            if role == Role.DisplayRole:
                d = "—" if derived is None else derived.value
                return f"{override.value} (override; derived {d})" if override is not None else d
            if role == Role.EditRole:
                return "" if override is None else override.value
            if role == Role.ForegroundRole:
                return QBrush(OVERRIDE_FG if override is not None else DERIVED_FG)
            if role == Role.ToolTipRole:
                return "Approximate crosswalk from the pars entry (clinical reference 3.1); override if CT shows otherwise"
            return None
        return None

    def _set_pars(self, key: tuple, ck: str, value: Any) -> None:
        level, side = key
        s = self.session
        if ck == "status":
            v = None if value in (None, "") else findings_model.ParsStatus(value)
            s.edit_pars(level, side, status=v)
        elif ck == "edema":
            present, sites = parse_edema(value)
            s.edit_pars(level, side, edema_present=present, edema_sites=sites)
        elif ck == "gap":
            s.edit_pars(level, side, gap_mm=parse_float(value))
        elif ck == "mri":
            v = None if value in (None, "") else int(value)
            s.edit_pars(level, side, mri_grade_override=v)
        elif ck == "ct":
            s.edit_pars(level, side, ct_stage_override=enum_or_none(findings_model.CTStage)(value))
        else:
            raise ValueError(f"column {ck} is read-only")

    # levels -------------------------------------------------------------
    def _level_data(self, level: findings_model.Level, col: Column, role: int) -> Any:
        lv = self.session.findings.level(level)
        slip = lv.slip if lv else None
        Role = Qt.ItemDataRole
        if role == Role.TextAlignmentRole:
            right = col.key in ("slip", "angle")
            return int(Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft))
        if col.key == "level":
            below = level.below
            text = f"{level.value}–{below.value}" if below else level.value
            return text if role in (Role.DisplayRole, Role.EditRole) else None
        if col.key == "slip":
            if role == Role.DisplayRole:
                if slip is None:
                    return ""
                retro = " retro" if slip.direction is findings_model.SlipDirection.POSTERIOR else ""
                return f"{slip.percent:.1f}{retro}"
            if role == Role.EditRole:
                return "" if slip is None else slip.percent
            if role == Role.ToolTipRole and slip is not None:
                return f"{slip.direction.value}, technique: {slip.technique.value}"
            return None
        if col.key == "meyerding":
            grade = slip.grade if slip else None
            near = bool(slip and slip.near_boundary)
            if role == Role.DisplayRole:
                if slip is None:
                    return ""
                if grade is None:
                    return "none"
                if near:
                    bound = min(findings_model.MEYERDING_UPPER_BOUNDS_PCT, key=lambda b: abs(slip.percent - b))
                    return f"{grade.value} ⚠ near {bound:g} %"
                return grade.value
            if role == Role.EditRole:
                return "" if grade is None else grade.value
            if role == FLAG_ROLE:
                return near
            if role == Role.BackgroundRole and near:
                return QBrush(WARN_BG)
            if role == Role.ForegroundRole:
                if grade is not None and grade.is_high_grade:
                    return QBrush(QColor("#ff8a80"))
                return QBrush(DERIVED_FG)
            if role == Role.ToolTipRole and slip is not None:
                t = f"Derived from {slip.percent:.1f} % (upper-inclusive 25/50/75/100 %)"
                if near:
                    t += ". Within ±3 % of a grade boundary: the grade depends on the measurement technique"
                return t
            return None
        if col.key == "angle":
            v = slip.slip_angle_deg if slip else None
            if role == Role.DisplayRole:
                return fmt_num(v, "")
            if role == Role.EditRole:
                return "" if v is None else v
            if role == Role.ToolTipRole and slip is not None and slip.slip_angle_endplate is not None:
                return f"reference endplate: {slip.slip_angle_endplate.value}"
            return None
        if col.key == "pfirrmann":
            v = lv.disc_pfirrmann if lv else None
            if role == Role.DisplayRole:
                return UNKNOWN if v is None else ROMAN[v]
            if role == Role.EditRole:
                return "" if v is None else str(v)
            if role == Role.ForegroundRole and v is not None and v >= 3:
                return QBrush(QColor("#ffcc80"))
            return None
        if col.key in ("hypoplasia", "instability"):
            attr = "neural_arch_hypoplasia" if col.key == "hypoplasia" else "instability"
            v = getattr(lv, attr) if lv else None
            if role == Role.DisplayRole:
                return tri_label(v)
            if role == Role.EditRole:
                return "" if v is None else ("yes" if v else "no")
            if role == Role.ForegroundRole and v:
                return QBrush(QColor("#ffcc80"))
            return None
        if col.key == "stenosis":
            v = lv.foraminal_stenosis if lv else None
            if role == Role.DisplayRole:
                return UNKNOWN if v is None else v.value
            if role == Role.EditRole:
                return "" if v is None else v.value
            return None
        return None

    def _set_level(self, level: findings_model.Level, ck: str, value: Any) -> None:
        s = self.session
        if ck == "slip":
            s.edit_level(level, slip_percent=parse_float(value))
        elif ck == "angle":
            s.edit_level(level, slip_angle_deg=parse_float(value))
        elif ck == "pfirrmann":
            s.edit_level(level, disc_pfirrmann=None if value in (None, "") else int(value))
        elif ck == "hypoplasia":
            s.edit_level(level, neural_arch_hypoplasia=parse_tri(value))
        elif ck == "instability":
            s.edit_level(level, instability=parse_tri(value))
        elif ck == "stenosis":
            s.edit_level(level, foraminal_stenosis=enum_or_none(findings_model.Severity)(value))
        else:
            raise ValueError(f"column {ck} is read-only")


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7] -> [(1, 3), (7, 7)]: one dataChanged per run of adjacent rows."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs
