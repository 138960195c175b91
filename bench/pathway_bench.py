"""Pathway benchmark: milliseconds per `evaluate` for each example study vs a trivial baseline.

Usage: python bench/pathway_bench.py [--repeat N] [--append-results]
The baseline is the cheapest thing an evaluation must do anyway: build the same StudyFindings and
serialise nothing (so "evaluate - baseline" is the pathway's own cost). Target: < 5 ms per study.
With --append-results a "## Pathway" section is appended to bench/RESULTS.md (replacing an
earlier Pathway section; other sections are kept).
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.pathway import evaluate, load_ruleset  # noqa: E402
from app.pathway.examples import STORIES, build  # noqa: E402

# besides the six stories: reads where many rules wait for unknown facts (the slow path: the
# completions of repeated unknowns and the "missing data" relevance search)
EXTRA = {
    "empty read": lambda: build(),
    "context only (VAS 3)": lambda: build(pain_vas=3.0),
    "one active fracture, little context": lambda: build([("L5", "left", "complete_fracture", True, None),
                                                          ("L5", "right", "intact", False, None)],
                                                         [dict(level="L5", slip=10.0, pfirrmann=2)],
                                                         age_years=15, symptomatic=True),
}

TARGET_MS = 5.0


def _time_ms(fn, repeat: int) -> tuple[float, float, float]:
    """(median wall ms, max wall ms, median CPU ms); CPU time is steadier on a shared machine."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000.0)
        wall.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(wall), max(wall), statistics.median(cpu)


def run(repeat: int) -> list[tuple[str, float, float, float, float]]:
    t0 = time.perf_counter()
    ruleset = load_ruleset()
    load_ms = (time.perf_counter() - t0) * 1000.0
    rows = []
    for name, make in {**STORIES, **EXTRA}.items():
        findings = make()
        evaluate(findings, ruleset)  # warm caches (imports, enum lookups)
        base_med, _, _ = _time_ms(lambda make=make, f=findings: (make(), f.context.age_years), repeat)
        med, worst, cpu = _time_ms(lambda f=findings: evaluate(f, ruleset), repeat)
        rows.append((name, med, worst, cpu, base_med))
    rows.append(("(load_ruleset, once)", load_ms, load_ms, float("nan"), 0.0))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--append-results", action="store_true")
    args = ap.parse_args()
    rows = run(args.repeat)
    lines = ["| study | evaluate median wall ms | evaluate max wall ms | evaluate median CPU ms "
             "| baseline median ms (build findings) |",
             "|---|---:|---:|---:|---:|"]
    for name, med, worst, cpu, base in rows:
        cpu_s = "" if cpu != cpu else f"{cpu:.2f}"
        lines.append(f"| {name} | {med:.2f} | {worst:.2f} | {cpu_s} | {base:.3f} |")
    study_rows = [r for r in rows if not r[0].startswith("(")]
    worst_median = max(r[1] for r in study_rows)
    worst_cpu = max(r[3] for r in study_rows)
    verdict = "PASS" if worst_median < TARGET_MS else "FAIL"
    summary = (f"Slowest study median {worst_median:.2f} ms wall, {worst_cpu:.2f} ms CPU per evaluation "
               f"(target < {TARGET_MS:g} ms wall): {verdict}. "
               f"{args.repeat} repeats, Python {platform.python_version()}, {platform.machine()}, "
               f"{dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}.")
    print("\n".join(lines))
    print(summary)
    if args.append_results:
        path = ROOT / "bench" / "RESULTS.md"
        existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
        section = ("\n## Pathway\n\n`python bench/pathway_bench.py --repeat "
                   f"{args.repeat}` — evaluate(findings, ruleset) for the six example studies "
                   "(app/pathway/examples.py), including the re-runs for disputed settings; the baseline only "
                   "builds the StudyFindings. Shared 2-core machine, other jobs running.\n\n"
                   + "\n".join(lines) + "\n\n" + summary + "\n")
        start = existing.find("\n## Pathway\n")
        if start >= 0:  # replace our own earlier section, keep everyone else's
            end = existing.find("\n## ", start + 1)
            rest = existing[end:] if end >= 0 else ""
            existing = existing[:start] + rest
        path.write_text(existing.rstrip("\n") + "\n" + section, encoding="utf-8")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
