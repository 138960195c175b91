"""The generated teaching set (``isthmus samples --teaching``): 26 deterministic cases rendered
from the phantom, each with a reference read and teaching metadata (history shown to the
trainee, learning points shown after).

Coverage: pars lesions at L3, L4 and L5, unilateral and bilateral, every pars stage (stress
reaction, incomplete, complete, chronic non-union), oedema with and without a fracture, L5-S1
isthmic slips of Meyerding grade I-IV, neural-arch hypoplasia, a normal case, a defect seen on
one oblique only (radiographs only). Not expressible by the phantom (said in docs/teaching.md):
a lumbosacral transitional vertebra (the phantom always has five lumbar vertebrae and a fused
sacrum), an S1 pars lesion (the sacrum has no pars) and slips above L5-S1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.findings.model import ClinicalContext, Level, ParsStatus, Side
from app.samples.cases import CaseSpec, ParsSpec

L3, L4, L5 = Level.L3, Level.L4, Level.L5
LEFT, RIGHT = Side.LEFT, Side.RIGHT
S = ParsStatus


@dataclass(frozen=True)
class TeachingCaseDef:
    spec: CaseSpec
    history: str
    difficulty: str
    tags: tuple[str, ...]
    learning_points: tuple[str, ...]


def _ctx(age: float, months: float, athlete: bool = False, sport: str = "", care: float = 0, vas: float = 5,
         radicular: bool = False, **extra) -> ClinicalContext:
    return ClinicalContext(age_years=age, skeletally_mature=age >= 18, athlete=athlete, sport=sport, symptomatic=True,
                           symptom_duration_months=months, conservative_care_months=care, pain_vas=vas,
                           radicular_symptoms=radicular, neuro_deficit="none", cauda_equina_symptoms=False, **extra)


def _edema(status: ParsStatus, pedicle: bool = False, gap_mm: float | None = None) -> ParsSpec:
    return ParsSpec(status, edema_pars=True, edema_pedicle=pedicle, gap_mm=gap_mm)


def _dry(status: ParsStatus, gap_mm: float | None = None) -> ParsSpec:
    return ParsSpec(status, gap_mm=gap_mm)


def _both(level: Level, spec: ParsSpec) -> tuple:
    return ((level, LEFT, spec), (level, RIGHT, spec))


def _case(n: int, slug: str, title: str, age: float, sex: str, context: ClinicalContext, impression: str,
          history: str, difficulty: str, tags: tuple[str, ...], points: tuple[str, ...], **spec) -> TeachingCaseDef:
    cs = CaseSpec(number=100 + n, slug=f"t{n:02d}_{slug}", title=title, age_years=age, sex=sex, seed=9000 + 37 * n,
                  athlete=bool(context.athlete), sport=context.sport, story=history, impression=impression,
                  context=context, **spec)
    return TeachingCaseDef(cs, history, difficulty, tags, points)


_COUNT = "Count the levels from the sacrum on the lateral view (and check on the sagittal MR) before naming one."
_STIR = "Marrow oedema on STIR means the lesion is active and may still heal; its absence with a defect means chronic."
_SLIP = ("Measure the slip on the lateral view: perpendicular from the L5 postero-inferior corner to the S1 endplate, "
         "distance from the S1 postero-superior corner, divided by the S1 endplate depth.")

TEACHING_CASES: tuple[TeachingCaseDef, ...] = (
    _case(1, "normal_adult", "Adult runner with back pain", 32, "F", _ctx(32, 2, True, "running", vas=4),
          "Normal lumbar spine.", "32-year-old runner, two months of mechanical low back pain, normal neurology.",
          "beginner", ("normal",),
          ("A normal study: intact pars at every level on both obliques, CT and MR.",
           "Calling nothing is the right answer here; false positives lead to needless imaging and rest.")),
    _case(2, "normal_high_lordosis", "Adolescent dancer with back pain", 14, "F", _ctx(14, 1, True, "dance", vas=3),
          "Normal lumbar spine (pronounced lordosis).", "14-year-old dancer, four weeks of low back pain after "
          "training, normal neurology.", "intermediate", ("normal", "adolescent", "pitfall"),
          ("Pronounced lordosis changes the projection of the pars on the obliques; it is not a defect.",
           _STIR), lordosis_scale=1.3, modalities=("DX", "MR")),
    _case(3, "l3_left_stress", "Adolescent rower with one-sided pain", 15, "M", _ctx(15, 0.75, True, "rowing"),
          "Left L3 pars stress reaction.", "15-year-old rower, three weeks of left-sided low back pain.",
          "advanced", ("L3", "unilateral", "stress reaction", "edema", "level counting"),
          ("The lesion is at L3: lesions above L5 are less common and easily mislabelled.", _COUNT,
           "Stress reaction = oedema with an intact cortex (Hollenberg 1, CT pre-lysis)."),
          pars=((L3, LEFT, _edema(S.STRESS_REACTION)),)),
    _case(4, "l3_bilateral_complete", "Young fast bowler with months of pain", 17, "M",
          _ctx(17, 4, True, "cricket (fast bowling)", care=2, vas=6),
          "Bilateral L3 complete pars fractures with oedema.", "17-year-old fast bowler, four months of low back pain.",
          "advanced", ("L3", "bilateral", "complete fracture", "edema", "level counting"),
          ("Bilateral complete fractures at L3, not L5.", _COUNT, _STIR),
          pars=_both(L3, _edema(S.COMPLETE_FRACTURE, pedicle=True))),
    _case(5, "l3_bilateral_chronic", "Builder with years of back pain", 52, "M", _ctx(52, 120, care=24, vas=4),
          "Bilateral chronic L3 pars defects, no oedema, no slip.", "52-year-old builder, years of intermittent "
          "low back pain.", "intermediate", ("L3", "bilateral", "chronic"),
          ("Wide gaps with sclerotic margins and no oedema: chronic non-union (terminal).", _COUNT),
          pars=_both(L3, _dry(S.CHRONIC_NONUNION))),
    _case(6, "l4_right_incomplete", "Volleyball player with right-sided pain", 16, "F",
          _ctx(16, 1.5, True, "volleyball"), "Right L4 incomplete pars fracture with oedema.",
          "16-year-old volleyball player, six weeks of right-sided low back pain.", "intermediate",
          ("L4", "unilateral", "incomplete fracture", "edema"),
          ("An incomplete fracture crosses only part of the pars (often the inferior cortex).",
           "Incomplete + oedema = Hollenberg 2; CT early."), pars=((L4, RIGHT, _edema(S.INCOMPLETE_FRACTURE)),)),
    _case(7, "l4_bilateral_chronic", "Office worker with chronic back pain", 44, "F", _ctx(44, 48, care=12),
          "Bilateral chronic L4 pars defects without oedema.", "44-year-old office worker, four years of mechanical "
          "low back pain, no leg symptoms.", "intermediate", ("L4", "bilateral", "chronic", "level counting"),
          ("Chronic defects at L4: count carefully, L5 is the usual level.", _STIR),
          pars=_both(L4, _dry(S.CHRONIC_NONUNION))),
    _case(8, "l4_bilateral_stress", "Adolescent gymnast with extension pain", 13, "F", _ctx(13, 0.5, True, "gymnastics"),
          "Bilateral L4 stress reaction.", "13-year-old gymnast, two weeks of extension-aggravated low back pain.",
          "intermediate", ("L4", "bilateral", "stress reaction", "edema"),
          ("Oedema without a fracture line on CT: pre-lysis, the best stage for healing.", _COUNT),
          pars=_both(L4, _edema(S.STRESS_REACTION, pedicle=True))),
    _case(9, "l4_left_complete_no_ct", "Tennis player, MRI only", 18, "M", _ctx(18, 2, True, "tennis"),
          "Left L4 complete pars fracture with oedema (MRI).", "18-year-old tennis player, two months of left-sided "
          "low back pain. Radiographs and MRI; no CT.", "advanced",
          ("L4", "unilateral", "complete fracture", "edema", "no CT"),
          ("Without CT the CT stage is only an MRI crosswalk; say so in the report.", _STIR),
          pars=((L4, LEFT, _edema(S.COMPLETE_FRACTURE)),), modalities=("DX", "MR")),
    _case(10, "l5_left_complete", "Cricketer with left-sided pain", 16, "M", _ctx(16, 2, True, "cricket"),
          "Left L5 complete pars fracture with oedema.", "16-year-old cricketer, two months of left-sided low back "
          "pain.", "beginner", ("L5", "unilateral", "complete fracture", "edema"),
          ("Unilateral defects are common on the side opposite the bowling arm.", _STIR),
          pars=((L5, LEFT, _edema(S.COMPLETE_FRACTURE, pedicle=True)),)),
    _case(11, "l5_right_stress", "Footballer with right-sided pain", 15, "M", _ctx(15, 0.75, True, "football"),
          "Right L5 pars stress reaction.", "15-year-old footballer, three weeks of right-sided low back pain.",
          "intermediate", ("L5", "unilateral", "stress reaction", "edema"),
          ("Radiographs and CT are normal in a stress reaction; STIR makes the diagnosis.",),
          pars=((L5, RIGHT, _edema(S.STRESS_REACTION)),)),
    _case(12, "l5_bilateral_incomplete", "Gymnast with three months of pain", 15, "F", _ctx(15, 3, True, "gymnastics", care=1),
          "Bilateral L5 incomplete pars fractures with oedema.", "15-year-old gymnast, three months of low back pain.",
          "intermediate", ("L5", "bilateral", "incomplete fracture", "edema"),
          ("Incomplete fractures: a cortical break that does not cross the whole pars.",
           "Both sides can be staged the same or differently: stage each side."),
          pars=_both(L5, _edema(S.INCOMPLETE_FRACTURE, pedicle=True))),
    _case(13, "l5_complete_without_edema", "Young adult with old back pain", 22, "M", _ctx(22, 18, care=6),
          "Bilateral L5 complete pars fractures without oedema (Hollenberg 4).", "22-year-old, 18 months of "
          "intermittent low back pain.", "intermediate", ("L5", "bilateral", "complete fracture", "no edema"),
          ("A complete fracture without oedema is Hollenberg 4: inactive, unlikely to heal with rest.", _STIR),
          pars=_both(L5, _dry(S.COMPLETE_FRACTURE))),
    _case(14, "l5_mixed_stages", "Bowler with new pain on the other side", 17, "M", _ctx(17, 1, True, "cricket"),
          "Left L5 chronic non-union; right L5 stress reaction.", "17-year-old bowler with known old back pain, new "
          "right-sided pain for four weeks.", "advanced", ("L5", "bilateral", "chronic", "stress reaction", "edema"),
          ("An old defect on one side stresses the other pars: look for a new lesion opposite.",
           "Stage each side on its own."),
          pars=((L5, LEFT, _dry(S.CHRONIC_NONUNION)), (L5, RIGHT, _edema(S.STRESS_REACTION, pedicle=True)))),
    _case(15, "two_levels", "Weightlifter with diffuse back pain", 19, "M", _ctx(19, 3, True, "weightlifting"),
          "Left L4 incomplete fracture with oedema; right L5 complete fracture with oedema.",
          "19-year-old weightlifter, three months of low back pain.", "advanced",
          ("L4", "L5", "multilevel", "incomplete fracture", "complete fracture", "edema"),
          ("Finding one lesion is not the end of the search: about one in ten patients has two levels.", _COUNT),
          pars=((L4, LEFT, _edema(S.INCOMPLETE_FRACTURE)), (L5, RIGHT, _edema(S.COMPLETE_FRACTURE)))),
    _case(16, "one_oblique_only", "Radiographs only: one-sided pain", 16, "F", _ctx(16, 1, True, "hockey"),
          "Right L5 pars defect suspected on radiographs (one oblique).", "16-year-old hockey player, four weeks of "
          "right-sided low back pain. Radiographs only so far.", "advanced",
          ("L5", "unilateral", "pitfall", "radiographs only", "chronic"),
          ("The defect is seen on one oblique only: always look at both obliques, each profiles one side's pars.",
           "On radiographs alone a defect is suspected, not confirmed; no CT stage without CT or MRI."),
          pars=((L5, RIGHT, _dry(S.CHRONIC_NONUNION, gap_mm=3.0)),), modalities=("DX",)),
    _case(17, "slip_grade1", "Adult with chronic back pain", 41, "F", _ctx(41, 60, care=12, vas=5, odi=24),
          "Bilateral chronic L5 spondylolysis with a grade I isthmic slip.", "41-year-old, five years of mechanical "
          "low back pain, no leg symptoms.", "beginner", ("L5", "bilateral", "chronic", "slip", "grade I"),
          (_SLIP, "12 % is Meyerding I."), pars=_both(L5, _dry(S.CHRONIC_NONUNION)), slip_pct=12.0,
          disc_degenerated_l5s1=True, pfirrmann_l5s1=3),
    _case(18, "slip_near_boundary", "Adult with back pain and a slip", 36, "M", _ctx(36, 36, care=12, odi=26),
          "Bilateral chronic L5 spondylolysis, isthmic slip of about 24 % (Meyerding I, near the II boundary).",
          "36-year-old, three years of low back pain.", "advanced", ("L5", "bilateral", "chronic", "slip", "grade I",
                                                                       "pitfall"),
          (_SLIP, "A slip within a few percent of 25 % is near a grade boundary: report the percent, not only the grade."),
          pars=_both(L5, _dry(S.CHRONIC_NONUNION)), slip_pct=24.0, disc_degenerated_l5s1=True, pfirrmann_l5s1=4),
    _case(19, "slip_grade2", "Driver with back and leg pain", 48, "M",
          _ctx(48, 72, care=18, vas=7, radicular=True, odi=44, disabling_pain=True),
          "Isthmic L5-S1 spondylolisthesis, Meyerding II.", "48-year-old driver, chronic low back pain and right leg "
          "pain despite 18 months of conservative care.", "intermediate", ("L5", "slip", "grade II", "chronic"),
          (_SLIP, "Radicular pain with an isthmic slip: the L5 root is compressed in the foramen."),
          pars=_both(L5, _dry(S.CHRONIC_NONUNION, gap_mm=3.8)), slip_pct=42.0, disc_degenerated_l5s1=True,
          pfirrmann_l5s1=5),
    _case(20, "slip_grade3", "Teenager with back pain and tight hamstrings", 15, "F",
          _ctx(15, 12, care=6, vas=6, slip_progression=True),
          "High-grade isthmic L5-S1 spondylolisthesis, Meyerding III.", "15-year-old with a year of low back pain and "
          "tight hamstrings; a slip was seen to increase on standing films.", "intermediate",
          ("L5", "slip", "grade III", "high grade", "adolescent"),
          (_SLIP, "Meyerding III and above is a high-grade slip; in an adolescent with progression, surgery is discussed."),
          pars=_both(L5, _dry(S.CHRONIC_NONUNION, gap_mm=4.5)), slip_pct=62.0, disc_degenerated_l5s1=True,
          pfirrmann_l5s1=4),
    _case(21, "slip_grade4", "Adolescent with an abnormal gait", 14, "M",
          _ctx(14, 18, care=6, vas=6, slip_progression=True),
          "High-grade isthmic L5-S1 spondylolisthesis, Meyerding IV.", "14-year-old with 18 months of back pain, "
          "hamstring tightness and a waddling gait.", "intermediate", ("L5", "slip", "grade IV", "high grade", "adolescent"),
          (_SLIP, "Above 75 % is Meyerding IV; above 100 % (spondyloptosis) is V."),
          pars=_both(L5, _dry(S.CHRONIC_NONUNION, gap_mm=5.0)), slip_pct=85.0, disc_degenerated_l5s1=True,
          pfirrmann_l5s1=5),
    _case(22, "hypoplasia_slip", "Young adult with a slip and a thin arch", 24, "F", _ctx(24, 24, care=12),
          "Bilateral chronic L5 defects with L5 neural-arch hypoplasia and a grade II slip.",
          "24-year-old, two years of low back pain.", "advanced", ("L5", "hypoplasia", "slip", "grade II", "chronic"),
          ("Neural-arch hypoplasia (thin pedicles, pars and lamina) goes with isthmic slips and slip progression.", _SLIP),
          pars=_both(L5, _dry(S.CHRONIC_NONUNION)), slip_pct=30.0, hypoplastic_levels=(L5,), pfirrmann_l5s1=3),
    _case(23, "hypoplasia_only", "Adolescent with back pain and a thin arch", 16, "M", _ctx(16, 2, True, "basketball"),
          "L5 neural-arch hypoplasia; pars intact.", "16-year-old basketball player, two months of low back pain.",
          "advanced", ("L5", "hypoplasia", "pitfall"),
          ("A thin (hypoplastic) arch is not a defect: the cortex is continuous on CT.",
           "Record hypoplasia: it is a risk factor for a later slip."), hypoplastic_levels=(L5,)),
    _case(24, "edema_with_fracture", "Sprinter with acute pain", 17, "F", _ctx(17, 0.5, True, "sprinting", vas=7),
          "Right L5 complete pars fracture with oedema in pars and pedicle; left L5 stress reaction.",
          "17-year-old sprinter, two weeks of sudden low back pain.", "intermediate",
          ("L5", "bilateral", "edema", "complete fracture", "stress reaction"),
          ("Oedema with a fracture line (right) and without one (left): Hollenberg 3 and 1.", _STIR),
          pars=((L5, RIGHT, _edema(S.COMPLETE_FRACTURE, pedicle=True)), (L5, LEFT, _edema(S.STRESS_REACTION)))),
    _case(25, "incomplete_without_edema", "Adult swimmer with intermittent pain", 27, "M", _ctx(27, 9, True, "swimming"),
          "Bilateral L4 incomplete pars fractures without oedema.", "27-year-old swimmer, nine months of intermittent "
          "low back pain.", "advanced", ("L4", "bilateral", "incomplete fracture", "no edema", "pitfall"),
          ("An incomplete fracture without oedema has no Hollenberg grade: record status and oedema, not a forced grade.",
           _COUNT), pars=_both(L4, _dry(S.INCOMPLETE_FRACTURE))),
    _case(26, "l3_l5_mixed", "Climber with low back pain", 20, "F", _ctx(20, 6, True, "climbing"),
          "Right L3 chronic non-union; bilateral L5 stress reaction.", "20-year-old climber, six months of low back "
          "pain, worse recently.", "advanced", ("L3", "L5", "multilevel", "chronic", "stress reaction", "edema"),
          ("Two levels at different stages: an old L3 defect and an active L5 stress reaction.", _COUNT),
          pars=((L3, RIGHT, _dry(S.CHRONIC_NONUNION)), *_both(L5, _edema(S.STRESS_REACTION)))),
)


def teaching_case_by_slug(slug: str) -> TeachingCaseDef:
    for d in TEACHING_CASES:
        if d.spec.slug == slug or d.spec.slug.startswith(slug + "_") or slug == f"{d.spec.number - 100:02d}":
            return d
    raise KeyError(f"no teaching case {slug!r}")


def generate_teaching(out_dir: Path, only: list[str] | None = None, limit: int | None = None,
                      log: Callable[[str], None] | None = None) -> list[Path]:
    """Render the teaching set (or the cases named in ``only``: a slug, its ``tNN`` prefix or ``NN``;
    or the first ``limit``) into ``out_dir``; each folder is a teaching case (docs/teaching.md)."""
    from app.findings.io import save_findings
    from app.samples.generate import READ_NAME, generate_case
    from app.teaching.case import CaseMetadata, write_case_metadata

    defs = [teaching_case_by_slug(s) for s in only] if only else list(TEACHING_CASES)
    if limit is not None:
        defs = defs[:limit]
    folders = []
    for d in defs:
        folder = generate_case(d.spec, Path(out_dir), log)
        save_findings(reference_with_markers(d.spec, folder), folder / READ_NAME)
        (folder / "README.md").write_text(_readme(d), encoding="utf-8")
        write_case_metadata(folder, CaseMetadata(
            case_id=d.spec.slug, title=d.spec.title, history=d.history, difficulty=d.difficulty, tags=d.tags,
            learning_points=d.learning_points, source="generated"))
        folders.append(folder)
    return folders


OBLIQUE_OF_SIDE = {Side.LEFT: "LT OBL", Side.RIGHT: "RT OBL"}  # the oblique that shows that side's pars


def reference_with_markers(spec: CaseSpec, folder: Path):
    """The reference read with, for every pars lesion, a marker (provenance) at the phantom's
    defect point on the oblique that shows its side, so the feedback view can draw it."""
    import dataclasses

    import pydicom

    from app.findings.model import AnnotationRef
    from app.samples.generate import SERIES_FOLDERS, reference_read
    from app.samples.render_dx import projected_pars

    read = reference_read(spec)
    pars = []
    for p in read.pars:
        if p.status is ParsStatus.INTACT:
            pars.append(p)
            continue
        view = OBLIQUE_OF_SIDE[p.side]
        ds = pydicom.dcmread(next(iter(sorted((folder / SERIES_FOLDERS[view]).iterdir()))), stop_before_pixels=True)
        row, col = projected_pars(spec, view)[(p.level, p.side)]["mid"]
        ref = AnnotationRef(annotation_id=f"ref-{p.level.value}-{p.side.value}", kind="pars-marker",
                            series_instance_uid=str(ds.SeriesInstanceUID), sop_instance_uid=str(ds.SOPInstanceUID),
                            points_px=((round(col, 2), round(row, 2)),))
        pars.append(dataclasses.replace(p, provenance=(ref,)))
    return dataclasses.replace(read, pars=tuple(pars))


def _readme(d: TeachingCaseDef) -> str:
    return (f"# Teaching case {d.spec.slug}: {d.spec.title}\n\nSynthetic case from the Isthmus phantom; not a real "
            "patient. The answer is in `reference_read.json` and the learning points in `teaching_case.json` "
            "(hidden from the trainee until the read is submitted).\n\nRegenerate with "
            f"`isthmus samples --teaching --only {d.spec.slug}` (deterministic).\n")
