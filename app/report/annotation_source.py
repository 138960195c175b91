"""The annotations a command-line report draws on its key images: read from an Isthmus
annotations document or from a study's autosave (which holds findings and annotations)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.annotations.model import Annotation
from app.annotations.store import AnnotationDocError, AnnotationStore
from app.report.identity import ReportError


def load_annotations_file(path: str | os.PathLike) -> tuple[list[Annotation], list[str]]:
    """(annotations, problems with skipped entries). ReportError naming the file when it cannot
    be read or is neither an annotations document nor an autosave holding one."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ReportError(f"{p}: cannot read the annotations ({exc})") from exc
    except json.JSONDecodeError as exc:
        raise ReportError(f"{p}: annotations file is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if isinstance(doc, dict) and isinstance(doc.get("annotations"), dict):
        doc = doc["annotations"]  # an autosave: {"format": "isthmus-autosave", ..., "annotations": {...}}
    try:
        store = AnnotationStore.from_doc(doc)
    except AnnotationDocError as exc:
        raise ReportError(f"{p}: {exc}") from exc
    return list(store), [f"{p}: {q}" for q in store.load_problems]
