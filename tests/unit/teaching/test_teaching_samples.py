"""`isthmus samples --teaching`: the generated teaching set covers what the issue lists, and a
rendered case is a loadable, deterministic teaching case (one case rendered: rendering is slow)."""

from __future__ import annotations

import dataclasses
import hashlib

import pydicom
import pytest

from app.cli import main
from app.findings.io import load_findings
from app.findings.model import Level, MeyerdingGrade, ParsStatus
from app.samples.generate import reference_read
from app.samples.teaching_cases import TEACHING_CASES
from app.teaching.library import load_library, user_cases_dir


def _reads():
    return [(d, reference_read(d.spec)) for d in TEACHING_CASES]


def test_the_set_covers_levels_sides_stages_edema_slips_and_pitfalls():
    reads = _reads()
    assert len(reads) >= 24
    assert len({d.spec.slug for d, _ in reads}) == len(reads)
    abnormal = [(p, d) for d, r in reads for p in r.pars if p.status is not ParsStatus.INTACT]
    assert {p.level for p, _ in abnormal} == {Level.L3, Level.L4, Level.L5}
    assert {p.status for p, _ in abnormal} == set(ParsStatus) - {ParsStatus.INTACT}
    sides_per_level = [{p.side for p in r.pars if p.status is not ParsStatus.INTACT and p.level is lv}
                       for _, r in reads for lv in Level]
    assert any(len(s) == 1 for s in sides_per_level) and any(len(s) == 2 for s in sides_per_level)
    assert any(p.edema_present and p.status.is_defect for p, _ in abnormal)  # oedema with a fracture
    assert any(p.edema_present and not p.status.is_defect for p, _ in abnormal)  # oedema without one
    grades = {lv.slip.grade for _, r in reads for lv in r.levels if lv.slip}
    assert {MeyerdingGrade.I, MeyerdingGrade.II, MeyerdingGrade.III, MeyerdingGrade.IV} <= grades
    assert any(lv.neural_arch_hypoplasia for _, r in reads for lv in r.levels)
    assert any(all(p.status is ParsStatus.INTACT for p in r.pars) and not any(lv.slip for lv in r.levels)
               for _, r in reads)  # a normal case
    assert any(d.spec.modalities == ("DX",) and "pitfall" in d.tags for d, _ in reads)  # one oblique only
    for d, _ in reads:
        assert d.learning_points and d.history
        assert not any(lv.value in d.history for lv in Level)  # the history never names the level


def _hashes(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.slow  # renders a whole teaching case (four radiographs)
def test_one_rendered_case_is_a_deterministic_teaching_case(tmp_path, capsys):
    assert main(["samples", "--teaching", "--only", "t16"]) == 0  # default: the user data folder
    assert main(["samples", "--teaching", "--out", str(tmp_path / "again"), "--only", "t16_one_oblique_only"]) == 0
    default = user_cases_dir() / "t16_one_oblique_only"
    assert _hashes(default) == _hashes(tmp_path / "again" / "t16_one_oblique_only")
    lib = load_library(bundled_dir=tmp_path / "none")
    case = lib.get("t16_one_oblique_only")
    assert case is not None and case.meta.source == "generated" and case.levels == (Level.L5,)
    spec = TEACHING_CASES[15].spec
    read = load_findings(case.reference_path)
    bare = dataclasses.replace(read, pars=tuple(dataclasses.replace(p, provenance=()) for p in read.pars))
    assert bare == reference_read(spec)  # the phantom's truth, plus markers for the feedback view
    (lesion,) = [p for p in read.pars if p.status is not ParsStatus.INTACT]
    (ref,) = lesion.provenance
    oblique = pydicom.dcmread(next((default / "DX_RT_OBL").iterdir()))  # right lesion: right oblique
    assert (ref.series_instance_uid, ref.sop_instance_uid) == (oblique.SeriesInstanceUID, oblique.SOPInstanceUID)
    col, row = ref.points_px[0]
    assert 0 <= col < oblique.Columns and 0 <= row < oblique.Rows
    assert (default / "DX_LT_OBL").is_dir() and not (default / "CT_AX_BONE").exists()


def test_unknown_teaching_case_is_refused(capsys):
    assert main(["samples", "--teaching", "--only", "nonsense"]) == 2
    assert "no teaching case 'nonsense'" in capsys.readouterr().err
