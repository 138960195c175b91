"""The case library: the bundled sample cases, any folder of teaching cases (searched two levels
deep for ``teaching_case.json``) and the cases the reader made (in the user data folder).

A broken case never hides the others: it is listed in ``Library.problems`` with the file and the
reason. Qt-free.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.findings.model import Level
from app.teaching.bundled import BUNDLED_METADATA
from app.teaching.case import CASE_FILE, TeachingCase, TeachingCaseError, open_case

PathLike = str | os.PathLike


def user_cases_dir() -> Path:
    """Where generated (``isthmus samples --teaching``) and authored cases go by default."""
    from app.core.paths import user_data_dir

    return user_data_dir() / "teaching" / "cases"


@dataclass
class Library:
    cases: list[TeachingCase] = field(default_factory=list)
    problems: list[TeachingCaseError] = field(default_factory=list)

    def get(self, case_id: str) -> TeachingCase | None:
        return next((c for c in self.cases if c.case_id == case_id), None)

    def filter(self, level: Level | None = None, difficulty: str | None = None, tag: str | None = None,
               not_attempted_by: set[str] | None = None) -> list[TeachingCase]:
        """Cases with an abnormal reference finding at ``level``, of ``difficulty``, carrying ``tag``
        (case-insensitive), and whose id is not in ``not_attempted_by`` (the ids already attempted)."""
        out = []
        for c in self.cases:
            if level is not None and level not in c.levels:
                continue
            if difficulty is not None and c.meta.difficulty != difficulty:
                continue
            if tag is not None and tag.lower() not in {t.lower() for t in c.meta.tags}:
                continue
            if not_attempted_by is not None and c.case_id in not_attempted_by:
                continue
            out.append(c)
        return out

    def _add(self, case: TeachingCase) -> None:
        if self.get(case.case_id) is not None:
            self.problems.append(TeachingCaseError(case.folder, f"duplicate case id {case.case_id!r} (kept the first)"))
            return
        self.cases.append(case)


def _case_files(root: Path) -> list[Path]:
    found = []
    for pattern in (CASE_FILE, f"*/{CASE_FILE}", f"*/*/{CASE_FILE}"):
        found.extend(sorted(root.glob(pattern)))
    return found


def load_library(folders: Iterable[PathLike] = (), bundled_dir: PathLike | None = None,
                 include_user_cases: bool = True) -> Library:
    """Bundled cases from ``bundled_dir`` (default: the sample_dicom folder; those present), then
    each of ``folders``, then the user's cases folder."""
    from app.core.paths import sample_dicom_dir

    lib = Library()
    bundled = Path(bundled_dir) if bundled_dir is not None else sample_dicom_dir()
    for meta in BUNDLED_METADATA:
        folder = bundled / meta.case_id
        if not folder.is_dir():
            continue
        try:
            lib._add(open_case(folder, meta))
        except TeachingCaseError as exc:
            lib.problems.append(exc)
    roots = [Path(f) for f in folders]
    if include_user_cases:
        roots.append(user_cases_dir())
    for root in roots:
        if not root.is_dir():
            if root != user_cases_dir():
                lib.problems.append(TeachingCaseError(root, "not a folder"))
            continue
        for meta_file in _case_files(root):
            try:
                lib._add(open_case(meta_file.parent))
            except TeachingCaseError as exc:
                lib.problems.append(exc)
    return lib
