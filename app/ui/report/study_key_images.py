"""Key images of a findings file drawn from the study's files on disk (the command-line report):
each key image's series is loaded, shown in a fresh display and drawn by ``render_key_image``,
the same offscreen SliceView path the workstation export uses. A key image whose image cannot
be found or loaded is kept, without picture, and its reason is returned (never silently dropped)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from app.annotations.model import Annotation
from app.findings.model import KeyImage, StudyFindings
from app.report.model import KeyImageFigure
from app.ui.report.key_images import key_image_where, render_key_image


def _entry_of(series: Sequence[Any], key: KeyImage) -> Any | None:
    for entry in series:
        if entry.series_instance_uid == key.series_instance_uid and any(
                h.sop_instance_uid == key.sop_instance_uid for h in entry.instances):
            return entry
    return None


def _source_display(entry: Any, key: KeyImage) -> Any:
    """A display of the key image's series as the viewer builds it (volume or that radiograph)."""
    from app.dicom.load import load_series
    from app.viewer.display import RadiographDisplay, VolumeDisplay

    loaded = load_series(entry)
    if isinstance(loaded, list):
        radiograph = next((r for r in loaded if r.sop_instance_uid == key.sop_instance_uid), None)
        if radiograph is None:
            raise LookupError(f"image {key.sop_instance_uid} could not be loaded")
        return RadiographDisplay(radiograph)
    return VolumeDisplay(loaded, orientation=key.plane or "native")


def figures_from_study(findings: StudyFindings, study_paths: str | os.PathLike | Iterable[str | os.PathLike],
                       annotations: Iterable[Annotation] = ()) -> tuple[tuple[KeyImageFigure, ...], list[str]]:
    """(one figure per key image, in order; problems in plain words naming the key image)."""
    if not findings.key_images:
        return (), []
    from app.dicom.scan import scan_paths

    paths = [study_paths] if isinstance(study_paths, (str, os.PathLike)) else list(study_paths)
    series = scan_paths(paths).all_series()
    frame_of_reference = {s.series_instance_uid: s.frame_of_reference_uid for s in series}
    anns = list(annotations)
    known_ids = {a.id for a in anns}
    figures: list[KeyImageFigure] = []
    problems: list[str] = []
    for n, key in enumerate(findings.key_images, 1):
        entry = _entry_of(series, key)
        png, desc = b"", ""
        if entry is None:
            problems.append(f"key image {n}: image {key.sop_instance_uid} is not in the study folder")
        else:
            desc = entry.description
            missing = [a for a in key.annotation_ids if a not in known_ids]
            if missing:
                problems.append(f"key image {n}: annotations {', '.join(missing)} not available "
                                "(pass the annotation document or autosave with --annotations); drawn without them")
            try:
                source = _source_display(entry, key)
                png = render_key_image(key, source, anns, frame_of_reference.get)
            except Exception as exc:  # a decoder or geometry failure must not lose the report
                problems.append(f"key image {n}: cannot be drawn ({exc})")
        figures.append(KeyImageFigure(caption=key.caption, png=png, where=key_image_where(key, desc)))
    return tuple(figures), problems


def clinic_entry_report(entry: Any, data_dir: str | os.PathLike | None = None) -> tuple[Any, list[str]]:
    """The report of one clinic-list entry with its key images drawn, as the single-study export
    draws them: the annotations they show come from the study's autosave (the reader's latest
    work) when there is one. Returns (report, problems in plain words); ReportError when the
    findings or the study cannot be read."""
    from app.findings.autosave import autosave_path
    from app.findings.io import FindingsFileError
    from app.pathway import evaluate, load_ruleset
    from app.report.annotation_source import load_annotations_file
    from app.report.clinic_list import load_entry_findings
    from app.report.identity import ReportError, read_study
    from app.report.model import build_report

    try:
        findings = load_entry_findings(entry.findings)
    except FindingsFileError as exc:
        raise ReportError(str(exc)) from exc
    identity, _ = read_study(entry.study, findings.study_instance_uid)
    annotations: list[Annotation] = []
    problems: list[str] = []
    if findings.key_images and findings.study_instance_uid:
        autosave = autosave_path(findings.study_instance_uid, data_dir)
        if autosave.exists():
            try:
                annotations, problems = load_annotations_file(autosave)
            except ReportError as exc:
                problems.append(str(exc))
    figures, drawn = figures_from_study(findings, entry.study, annotations)
    return build_report(findings, evaluate(findings, load_ruleset()), identity, figures), problems + drawn
