"""Render the sample cases into a folder: DICOM series, a README per case and a reference read
(findings JSON). Output is byte-for-byte reproducible (fixed dates, seeded noise, UIDs from the
case seed). Used by ``isthmus samples``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from app.findings.io import save_findings
from app.findings.model import Edema, EdemaSite, Level, LevelFinding, ParsFinding, ParsStatus, Side, Slip, StudyFindings
from app.samples.cases import SAMPLE_CASES, CaseSpec
from app.samples.phantom import measured_slip_pct, model_for

Log = Callable[[str], None]

SERIES_FOLDERS = {
    "AP": "DX_AP", "LAT": "DX_LAT", "LT OBL": "DX_LT_OBL", "RT OBL": "DX_RT_OBL",
    "CT": "CT_AX_BONE", "T1": "MR_SAG_T1", "T2": "MR_SAG_T2", "STIR": "MR_SAG_STIR",
}
READ_NAME = "reference_read.json"


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def generate_case(case: CaseSpec, out_dir: Path, log: Log | None = _stderr) -> Path:
    """Render one case into ``out_dir / case.slug``; returns that folder."""
    import numpy as np  # noqa: F401  (heavy imports stay inside the command)

    from app.samples import dicomwrite, render_ct, render_dx, render_mr

    log = log or (lambda m: None)
    folder = Path(out_dir) / case.slug
    folder.mkdir(parents=True, exist_ok=True)
    for_uid = dicomwrite.uid(case, "frame-of-reference")
    for view in render_dx.VIEWS:
        log(f"case {case.number:02d}: radiograph {view}")
        img = render_dx.render_radiograph(case, view)
        dicomwrite.write_dx(case, view, img, folder / SERIES_FOLDERS[view], render_dx.DX_IMAGER_PIXEL_MM, render_dx.MAGNIFICATION)
    if "CT" in case.modalities:
        log(f"case {case.number:02d}: CT")
        hu, geo = render_ct.render_ct(case)
        dicomwrite.write_ct(case, hu, geo, folder / SERIES_FOLDERS["CT"], for_uid)
    if "MR" in case.modalities:
        log(f"case {case.number:02d}: MR labels")
        lab, geo = render_mr.render_mr_labels(case)
        for seq in ("T1", "T2", "STIR"):
            log(f"case {case.number:02d}: MR {seq}")
            sig = render_mr.render_mr(case, seq, lab)
            dicomwrite.write_mr(case, seq, sig, geo, folder / SERIES_FOLDERS[seq], for_uid)
    save_findings(reference_read(case), folder / READ_NAME)
    (folder / "README.md").write_text(case_readme(case), encoding="utf-8")
    return folder


def generate(out_dir: Path, numbers: list[int] | None = None, jobs: int = 1, log: Log | None = _stderr) -> list[Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cases = [c for c in SAMPLE_CASES if numbers is None or c.number in numbers]
    if jobs > 1 and len(cases) > 1:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(min(jobs, len(cases))) as pool:
            folders = pool.starmap(_generate_one, [(c.number, str(out_dir)) for c in cases])
        folders = [Path(f) for f in folders]
    else:
        folders = [generate_case(c, out_dir, log) for c in cases]
    if numbers is None:
        (out_dir / "README.md").write_text(top_readme(), encoding="utf-8")
    return folders


def _generate_one(number: int, out_dir: str) -> str:
    from app.samples.cases import case_by_number

    return str(generate_case(case_by_number(number), Path(out_dir), _stderr))


# --------------------------------------------------------------------------- reference read


def reference_read(case: CaseSpec) -> StudyFindings:
    from app.samples import dicomwrite

    pars = []
    levels_with_pars = sorted({lv for lv, _, _ in case.pars} | {Level.L5}, key=lambda lv: list(Level).index(lv))
    for lv in levels_with_pars:
        for side in Side:
            spec = case.pars_of(lv, side)
            sites = set()
            if spec.edema_pars:
                sites.add(EdemaSite.PARS)
            if spec.edema_pedicle:
                sites.add(EdemaSite.PEDICLE)
            edema = Edema(present=bool(sites), sites=frozenset(sites))
            gap = spec.gap_width_mm if spec.status.is_defect else None
            pars.append(ParsFinding(
                level=lv, side=side, status=spec.status, edema=edema, gap_mm=gap,
                sclerotic_margins=(spec.status is ParsStatus.CHRONIC_NONUNION) if spec.status.is_defect else None,
                note="reference read of the synthetic phantom (ground truth)", read_on=case.read_on))
    geo = model_for(case).geometry
    slip = None
    if case.slip_pct > 0:
        lm = {k: tuple(round(float(v), 2) for v in p) for k, p in geo.landmarks().items()}
        slip = Slip(percent=round(measured_slip_pct(geo), 1), landmarks_lps=lm)
    l5 = LevelFinding(level=Level.L5, slip=slip, disc_pfirrmann=case.pfirrmann_l5s1,
                         neural_arch_hypoplasia=Level.L5 in case.hypoplastic_levels)
    levels = [l5]
    if any(lv is Level.L4 for lv, _, _ in case.pars):
        levels.insert(0, LevelFinding(level=Level.L4, disc_pfirrmann=2,
                                         neural_arch_hypoplasia=Level.L4 in case.hypoplastic_levels))
    return StudyFindings(
        study_instance_uid=dicomwrite.uid(case, "study"),
        reader="Isthmus sample generator (reference read of the synthetic phantom)",
        created=f"{case.study_date[:4]}-{case.study_date[4:6]}-{case.study_date[6:]}T10:00:00",
        modified=f"{case.study_date[:4]}-{case.study_date[4:6]}-{case.study_date[6:]}T10:00:00",
        impression=case.impression, pars=tuple(pars), levels=tuple(levels), context=case.read_context,
        imaging=case.imaging_performed)


# --------------------------------------------------------------------------- READMEs


def _series_lines(case: CaseSpec) -> list[str]:
    from app.samples import render_ct, render_dx, render_mr

    lines = [
        f"- `DX_AP/`, `DX_LAT/`, `DX_LT_OBL/`, `DX_RT_OBL/`: radiographs \"L-SPINE AP\", \"L-SPINE LAT\", "
        f"\"L-SPINE LT OBL\", \"L-SPINE RT OBL\" (DX For Presentation, {render_dx.DX_COLS}x{render_dx.DX_ROWS}, imager pixel "
        f"{render_dx.DX_IMAGER_PIXEL_MM} mm, magnification {render_dx.MAGNIFICATION}; digitally reconstructed, "
        "parallel beam, with focal-spot blur, scatter, quantum noise and the heel effect; lossy JPEG 2000)",
    ]
    if "CT" in case.modalities:
        lines.append(f"- `CT_AX_BONE/`: axial CT \"AX BONE {render_ct.CT_SLICE_MM:g}\", "
                     f"{render_ct.CT_MATRIX}x{render_ct.CT_ROWS} at {render_ct.CT_PIXEL_MM} mm, "
                     f"{render_ct.CT_SLICE_MM:g} mm slices from L3 to the upper sacrum, "
                     f"bone kernel (noise ~{render_ct.CT_NOISE_HU:g} HU), "
                     "bone window 500/2000; lossy JPEG 2000")
    if "MR" in case.modalities:
        lines.append(f"- `MR_SAG_T1/`, `MR_SAG_T2/`, `MR_SAG_STIR/`: sagittal 1.5 T MR \"SAG T1\", \"SAG T2\", "
                     f"\"SAG STIR\", {render_mr.MR_SLICES} slices of {render_mr.MR_SLICE_MM} mm, "
                     f"{render_mr.MR_MATRIX}x{render_mr.MR_MATRIX} "
                     f"at {render_mr.MR_PIXEL_MM} mm; CT and MR share one frame of reference")
    lines.append(f"- `{READ_NAME}`: the reference read (Isthmus findings format) with the clinical context")
    return lines


def _truth_lines(case: CaseSpec) -> list[str]:
    read = reference_read(case)
    out = []
    for p in read.pars:
        extra = []
        if p.edema_present:
            extra.append("oedema in " + " and ".join(sorted(s.value for s in p.edema.sites)))
        if p.gap_mm:
            extra.append(f"gap {p.gap_mm:g} mm")
        grade = p.mri_grade
        stage = p.ct_stage
        out.append(f"- {p.level.value} {p.side.value} pars: {p.status.value.replace('_', ' ')}"
                   + (f" ({', '.join(extra)})" if extra else "")
                   + f"; Hollenberg {grade if grade is not None else 'n/a'}; CT stage {stage.value if stage else 'none'}")
    for lv in read.levels:
        if lv.slip:
            out.append(f"- {lv.level.value} on S1: isthmic anterolisthesis {lv.slip.percent:g} % "
                       f"(Meyerding {lv.slip.grade.value})")
        if lv.disc_pfirrmann:
            below = "S1" if lv.level is Level.L5 else lv.level.below.value
            out.append(f"- {lv.level.value}-{below} disc: Pfirrmann {lv.disc_pfirrmann}")
    return out


def case_readme(case: CaseSpec) -> str:
    lines = [
        f"# Case {case.number:02d}: {case.title}",
        "",
        "Synthetic training case rendered from the Isthmus lumbar phantom; not a real patient.",
        f"Patient: `{case.patient_name}`, ID `{case.patient_id}`, {int(case.age_years)} years, "
        f"{'male' if case.sex == 'M' else 'female'}" + (f", athlete ({case.sport})" if case.athlete else "") + ".",
        "",
        "## Clinical story",
        "",
        case.story,
        "",
        "## Ground truth (what the phantom was built with)",
        "",
        *_truth_lines(case),
        "",
        f"Impression: {case.impression}",
        "",
        "## Series",
        "",
        *_series_lines(case),
        "",
        "Regenerate with `isthmus samples --out sample_dicom --case "
        f"{case.number}` (byte for byte identical).",
        "",
    ]
    return "\n".join(lines)


def top_readme() -> str:
    rows = [f"| [{c.slug}]({c.slug}/README.md) | {c.title} | {int(c.age_years)} {c.sex} | "
            f"{', '.join(['DX'] + [m for m in c.modalities if m != 'DX'])} |" for c in SAMPLE_CASES]
    return "\n".join([
        "# Isthmus sample cases (synthetic)",
        "",
        "Six synthetic lumbar spine studies rendered from one analytic phantom (app/samples): oblique, "
        "AP and lateral radiographs (digitally reconstructed), axial bone CT and sagittal T1/T2/STIR MR. "
        "No real patient data: names are `TRAINING^CASEnn`, IDs `ISTHMUS-SAMPLE-nn`.",
        "",
        "| Case | Story | Age/sex | Modalities |",
        "|---|---|---|---|",
        *rows,
        "",
        "Each case folder has a README with the clinical story and the ground truth, and "
        "`reference_read.json` (Isthmus findings format, with the clinical context for the pathway module).",
        "",
        "## Regenerate",
        "",
        "```",
        "isthmus samples --out sample_dicom        # all cases (or: make samples)",
        "isthmus samples --out sample_dicom --case 3",
        "```",
        "",
        "The output is byte-for-byte reproducible (fixed dates, seeded noise, UIDs derived from the case "
        "seed); a test regenerates every case and compares file hashes. "
        "Pixel data is JPEG 2000: lossless for MR, lossy for the radiographs and the CT (labelled "
        "LossyImageCompression 01 with the ratio and ISO_15444_1), to keep the folder within 60 MB; "
        "if another OpenJPEG build codes a lossy file differently, the test compares decoded pixels "
        "(within 2 units) instead of bytes. "
        "See docs/samples.md for the phantom, the label table and the rendering.",
        "",
    ])
