"""The installation self-test (`isthmus --self-test`): proves that a build (source checkout,
PyInstaller bundle or installed .deb) can do what the workstation does, on the bundled sample
cases, through the same functions the GUI calls.

Per sample case: scan the folder (``app.viewer.loading.scan``), load every series
(``loading.load``: volumes and radiographs, which decodes each transfer syntax the case uses),
render one frame per series (a ``render`` callable supplied by the caller; the command passes
the viewer's offscreen renderer), evaluate the pathway on the reference read and export the read
as a DICOM SR and import it back. Then every pixel-data decoder plugin the bundle ships is made to
decode one of pydicom's bundled test files per compressed transfer syntax (app/selftest_decoders.py).

Qt-free: rendering is injected, so this module stays in the domain core.
"""

from __future__ import annotations

import json
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RenderFn = Callable[[Any], str]  # display -> detail text; raises on failure


@dataclass(frozen=True)
class CheckResult:
    step: str  # window | about | scan | load | render | protocol | pathway | sr | decode
    subject: str  # case folder, series or transfer syntax
    ok: bool
    detail: str
    seconds: float

    def to_dict(self) -> dict:
        return {"step": self.step, "subject": self.subject, "ok": self.ok, "detail": self.detail,
                "seconds": round(self.seconds, 3)}


class SelfTestError(Exception):
    """A self-test step found wrong output (the message says what and where)."""


def timed(step: str, subject: str, fn: Callable[[], str]) -> CheckResult:
    t = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except Exception as exc:
        ok = False
        detail = f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, SelfTestError):
            tb = traceback.extract_tb(exc.__traceback__)
            if tb:
                detail += f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})"
    return CheckResult(step, subject, ok, detail, time.perf_counter() - t)


def sample_cases(samples_dir: Path) -> list[Path]:
    """Case folders (``case*``) under the sample folder, sorted."""
    return sorted(p for p in Path(samples_dir).glob("case*") if p.is_dir())


# ---- one sample case -------------------------------------------------------------------------
def check_case(case_dir: Path, render: RenderFn | None, work_dir: Path) -> Iterator[CheckResult]:
    """Scan, load, render, pathway and SR checks of one sample case folder."""
    from app.viewer import loading
    from app.viewer.cells import display_for_cell

    name = case_dir.name
    scanned: dict[str, Any] = {}

    def scan() -> str:
        result = loading.scan([str(case_dir)])
        problems = [f"{s.path.name}: {s.reason}" for s in result.skipped if s.category != "not-dicom"]
        if problems:
            raise SelfTestError("files skipped: " + "; ".join(problems))
        series = result.all_series()
        if not series:
            raise SelfTestError(f"no loadable series in {case_dir}")
        scanned["series"] = series
        return f"{result.files_seen} files, {len(series)} series"

    yield (first := timed("scan", name, scan))
    if not first.ok:
        return
    by_key: dict[str, tuple[Any, Any]] = {}
    for entry in scanned["series"]:
        subject = f"{name} {entry.modality.value} {entry.description}".strip()
        loaded: dict[str, Any] = {}

        def load(entry=entry, loaded=loaded, subject=subject) -> str:
            obj, prep = loading.load(entry)
            by_key[entry.key] = (obj, prep)
            loaded["display"] = display_for_cell(None, obj, prep)[0]
            images = obj if isinstance(obj, list) else [obj]
            for img in images:
                _check_pixels(getattr(img, "array", None), subject)
            kind = f"{len(images)} radiograph(s)" if isinstance(obj, list) else f"volume {_shape(obj)}"
            return f"{kind}, {entry.transfer_syntax}"

        res = timed("load", subject, load)
        yield res
        if res.ok and render is not None:
            yield timed("render", subject, lambda loaded=loaded: render(loaded["display"]))
    if render is not None:
        yield from _protocol_checks(name, scanned["series"], by_key, render)
    read = case_dir / "reference_read.json"
    if read.is_file():
        yield timed("pathway", name, lambda: _pathway(read))
        yield timed("sr", name, lambda: _sr_round_trip(read, case_dir, work_dir))
    else:
        yield CheckResult("pathway", name, False, f"no reference_read.json in {case_dir}", 0.0)


def _protocol_checks(name: str, series: list, by_key: dict[str, tuple[Any, Any]],
                     render: RenderFn) -> Iterator[CheckResult]:
    """Each filled cell of the pars hanging protocol (the layout a case opens in), rendered as the
    viewer shows it: CT cells are sagittal reformats through the automatically found pars."""
    from app.viewer.cells import display_for_cell
    from app.viewer.hanging import pars_protocol

    for cell in pars_protocol(series).cells:
        if cell.series_key is None:
            continue  # e.g. no CT in this case: the viewer shows the cell's empty message

        def show(cell=cell) -> str:
            if cell.series_key not in by_key:
                raise SelfTestError(f"series {cell.series_key} of cell {cell.role} did not load")
            display, note = display_for_cell(cell, *by_key[cell.series_key])
            return render(display) + (f"; {note}" if note else "")

        yield timed("protocol", f"{name} {cell.role}", show)


def _shape(volume: Any) -> str:
    shape = getattr(getattr(volume, "array", None), "shape", None)
    return "x".join(str(n) for n in shape) if shape else "?"


def _check_pixels(pixels: Any, subject: str) -> None:
    import numpy as np

    if pixels is None:
        raise SelfTestError(f"{subject}: no pixel data after loading")
    a = np.asarray(pixels)
    if a.size == 0:
        raise SelfTestError(f"{subject}: empty pixel array")
    if np.issubdtype(a.dtype, np.floating) and not np.isfinite(a).all():
        raise SelfTestError(f"{subject}: pixel array has NaN or infinite values")
    if a.min() == a.max():
        raise SelfTestError(f"{subject}: every pixel has the value {a.min()} (decoded to a blank image)")


def _pathway(read: Path) -> str:
    from app.findings.io import load_findings
    from app.pathway import evaluate, load_ruleset

    ruleset = load_ruleset()
    findings = load_findings(read)
    first = evaluate(findings, ruleset).to_dict()
    again = evaluate(findings, ruleset).to_dict()
    json.dumps(first)  # the result must be serialisable as documented
    if first != again:
        raise SelfTestError(f"pathway result for {read} differs between two evaluations")
    if not first.get("disclaimer"):
        raise SelfTestError("pathway result has no decision-support disclaimer")
    return f"ruleset {ruleset.version}, {_pathway_summary(first)}"


def _pathway_summary(result: dict) -> str:
    stage = result.get("stage") or {}
    summary = "; ".join(stage.get("summary") or []) if isinstance(stage, dict) else str(stage)
    return f"tier {result.get('tier')}: {summary or 'no stage'}"


def _sr_round_trip(read: Path, case_dir: Path, work_dir: Path) -> str:
    from app.findings.io import load_findings
    from app.findings.sr import export_sr, load_findings_from_sr

    findings = load_findings(read)
    out = export_sr(findings, work_dir / f"{case_dir.name}-sr.dcm", study=case_dir)
    back = load_findings_from_sr(out)
    if back != findings:
        raise SelfTestError(f"SR {out.name} read back differs from {read.name}")
    return f"{out.stat().st_size} bytes, round trip equal"


# ---- Help > About contents -------------------------------------------------------------------
def check_about() -> str:
    """The About facts are known: a frozen build has its build date, every bundled component its
    package metadata (a bundle missing a dist-info would list it as unknown)."""
    import sys

    from app.about import SOURCE_BUILD, build_info, bundled_components, ruleset_version

    info = build_info()
    if getattr(sys, "frozen", False) and (info["build_date"] == SOURCE_BUILD or info["build_date"].startswith("unknown")):
        raise SelfTestError(f"the bundle has no build date (resources/build_info.json): {info['build_date']}")
    if ruleset_version().startswith("unknown"):
        raise SelfTestError(ruleset_version())
    components = bundled_components()
    unknown = [c.name for c in components if c.version == "unknown"]
    if unknown:
        raise SelfTestError("no package metadata for " + ", ".join(unknown))
    return f"build {info['build_date']}, {len(components)} components with licences"


# ---- the whole run ---------------------------------------------------------------------------
def run_self_test(samples_dir: Path, render: RenderFn | None = None, cases: Iterable[str] | None = None,
                  decoders: bool = True, work_dir: Path | None = None,
                  on_result: Callable[[CheckResult], None] | None = None) -> list[CheckResult]:
    """Every check; ``cases`` limits the sample cases by folder-name prefix (e.g. "case01")."""
    import warnings

    results: list[CheckResult] = []

    def add(r: CheckResult) -> None:
        results.append(r)
        if on_result is not None:
            on_result(r)

    folders = sample_cases(samples_dir)
    if cases is not None:
        wanted = tuple(cases)
        folders = [f for f in folders if f.name.startswith(wanted)]
    if not folders:
        add(CheckResult("scan", str(samples_dir), False, f"no sample case folders (case*) in {samples_dir}", 0.0))
    add(timed("about", "Help > About", check_about))
    with tempfile.TemporaryDirectory(prefix="isthmus-selftest-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's parser chatter; failures are rows
        out_dir = Path(work_dir) if work_dir is not None else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for folder in folders:
            for r in check_case(folder, render, out_dir):
                add(r)
        if decoders:
            from app.selftest_decoders import DECODE_CASES, check_decoder

            for case in DECODE_CASES:
                for r in check_decoder(case):
                    add(r)
    return results


def format_row(r: CheckResult) -> str:
    return f"{'PASS' if r.ok else 'FAIL'}  {r.step:<8} {r.subject[:44]:<44} {r.seconds:6.2f}s  {r.detail}"


def format_summary(results: list[CheckResult], seconds: float) -> str:
    failed = [r for r in results if not r.ok]
    head = f"{len(results) - len(failed)} passed, {len(failed)} failed in {seconds:.1f} s"
    return ("SELF-TEST PASSED: " if results and not failed else "SELF-TEST FAILED: ") + head


def exit_status(results: list[CheckResult]) -> int:
    """0 only when there was at least one check and every check passed."""
    return 0 if results and all(r.ok for r in results) else 1
