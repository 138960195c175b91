"""The findings' key images as a DICOM Key Object Selection document ("Of Interest", highdicom),
referencing the source images in their own study, ready for PACS."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.findings.model import StudyFindings
from app.report.identity import ReportError

KO_SERIES_NUMBER = 9200
DESCRIPTION_MAX = 1024  # the KOS description is a TEXT item; keep it readable


def key_object_selection(findings: StudyFindings, study_headers: Sequence[Any]) -> Any:
    """A highdicom KeyObjectSelectionDocument of ``findings.key_images`` (ReportError when there
    are none, or one names an image that is not among ``study_headers``)."""
    import highdicom as hd
    from pydicom.sr.codedict import codes
    from pydicom.uid import generate_uid

    if not findings.key_images:
        raise ReportError("no key images marked (press K on a view to mark one)")
    by_sop = {str(ds.SOPInstanceUID): ds for ds in study_headers}
    missing = [k.sop_instance_uid for k in findings.key_images if k.sop_instance_uid not in by_sop]
    if missing:
        raise ReportError(f"key image(s) of image(s) not in the given study: {', '.join(missing[:3])}")
    referenced, seen = [], set()
    for k in findings.key_images:
        if k.sop_instance_uid not in seen:
            seen.add(k.sop_instance_uid)
            referenced.append(by_sop[k.sop_instance_uid])
    captions = "; ".join(k.caption for k in findings.key_images if k.caption)
    content = hd.ko.KeyObjectSelection(
        document_title=codes.cid7010.OfInterest, referenced_objects=referenced,
        description=(captions[:DESCRIPTION_MAX] or None))
    return hd.ko.KeyObjectSelectionDocument(
        evidence=referenced, content=content, series_instance_uid=generate_uid(), series_number=KO_SERIES_NUMBER,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer="Isthmus project")


def export_key_objects(findings: StudyFindings, study: str | os.PathLike | Sequence[str | os.PathLike],
                       path: str | os.PathLike) -> Path:
    """Write the Key Object Selection for ``findings`` (its study read from ``study``) to ``path``."""
    from pydicom.filewriter import dcmwrite

    from app.core.atomic import write_bytes_atomic
    from app.report.identity import read_study

    _, headers = read_study(study, findings.study_instance_uid)
    doc = key_object_selection(findings, headers)
    buffer = io.BytesIO()
    dcmwrite(buffer, doc, enforce_file_format=True)
    out = Path(path)
    try:
        write_bytes_atomic(out, buffer.getvalue())
    except OSError as exc:
        raise ReportError(f"{out}: cannot write the key images ({exc})") from exc
    return out
