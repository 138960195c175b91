"""Study database benchmark (run by hand: `.venv/bin/python bench/studydb_bench.py`). Not a test.

Writes 50,000 synthetic DICOM headers (500 studies x 4 series x 25 instances, 2x2 pixels, ~1 KB
each) once under bench/_data/studydb_50k/ (git-ignored), then measures in one run:

1. Import: StudyDatabase.import_paths (link mode, a fresh database) vs. the peer, a plain
   pydicom loop (dcmread(stop_before_pixels=True) of every file, keeping the same attributes,
   no database). Page cache warmed first; seconds and microseconds per instance, and the ratio.
2. Search latency on the study list: StudyDatabase.search over many queries (name/ID/
   description/accession fragments, empty text, a modality filter) vs. the peer, a linear scan
   of the 50,000 instance rows in Python (case-folded substring test, grouped by study).
   Median and p95 in milliseconds, and the ratio. Target: search under 50 ms.
3. Re-index with nothing changed (every file checked for existence, roots enumerated).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parent))
DATA = ROOT / "_data" / "studydb_50k"
N_STUDIES, N_SERIES, N_PER_SERIES = 500, 4, 25
FIRST = ["Anna", "Ben", "Chloé", "Dmitri", "Eva", "Farid", "Grete", "Hiro", "Ines", "Jon", "Kaja", "Luis"]
LAST = ["Müller", "Smith", "Nakamura", "Okafor", "Larsen", "Rossi", "Novak", "Schmidt", "Garcia", "Kowalski"]
DESCRIPTIONS = ["MR LUMBAR SPINE", "CT L-SPINE", "XR LUMBAR 2 VIEWS", "MR L-SPINE STIR", "CT PELVIS", "MR SACRUM"]


def _identity(i: int) -> dict[str, str]:
    return {"PatientName": f"{LAST[i % len(LAST)]}^{FIRST[(i // len(LAST)) % len(FIRST)]}^{i:04d}",
            "PatientID": f"PAT{i:05d}", "AccessionNumber": f"ACC{i * 7:06d}",
            "StudyDescription": DESCRIPTIONS[i % len(DESCRIPTIONS)], "StudyDate": f"20{10 + i % 15:02d}0{1 + i % 9}15"}


def write_data(folder: Path) -> int:
    """Write the synthetic headers once (a marker file records completion); returns the file count."""
    marker = folder / ".complete"
    if marker.is_file():
        return int(marker.read_text())
    from io import BytesIO

    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filewriter import dcmwrite
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    n = 0
    t0 = time.perf_counter()
    for i in range(N_STUDIES):
        study_uid = generate_uid()
        for s in range(N_SERIES):
            modality = "MR" if s % 2 == 0 else "CT"
            series_uid = generate_uid()
            out = folder / f"study{i:03d}" / f"series{s}"
            out.mkdir(parents=True, exist_ok=True)
            for k in range(N_PER_SERIES):
                ds = Dataset()
                ds.file_meta = FileMetaDataset()
                ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
                ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = (
                    "1.2.840.10008.5.1.4.1.1.4" if modality == "MR" else "1.2.840.10008.5.1.4.1.1.2")
                ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
                for key, value in _identity(i).items():
                    setattr(ds, key, value)
                ds.PatientBirthDate, ds.PatientSex = "19800101", "FM"[i % 2]
                ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = study_uid, series_uid, modality
                ds.SeriesNumber, ds.InstanceNumber, ds.SeriesDescription = s + 1, k + 1, f"series {s + 1}"
                ds.ImagePositionPatient = [0.0, 0.0, float(k)]
                ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
                ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 1.0
                ds.Rows = ds.Columns = 2
                ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
                ds.BitsAllocated = ds.BitsStored = 16
                ds.HighBit, ds.PixelRepresentation = 15, 0
                ds.PixelData = b"\0" * 8
                buf = BytesIO()
                dcmwrite(buf, ds, enforce_file_format=True)
                (out / f"{k:03d}.dcm").write_bytes(buf.getvalue())
                n += 1
        if i % 50 == 49:
            print(f"  wrote {n} files ({time.perf_counter() - t0:.0f} s)", flush=True)
    marker.write_text(str(n))
    return n


def _warm(folder: Path) -> list[Path]:
    files = sorted(folder.rglob("*.dcm"))
    for f in files:
        f.read_bytes()
    return files


def peer_import(files: list[Path]) -> list[tuple[str, ...]]:
    from pydicom import dcmread

    keys = ("PatientName", "PatientID", "StudyDescription", "AccessionNumber", "StudyInstanceUID", "Modality")
    rows = []
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        rows.append(tuple(str(ds.get(k, "")) for k in keys))
    return rows


def peer_search(rows: list[tuple[str, ...]], text: str, modality: str) -> list[str]:
    words = text.casefold().split()
    hits: dict[str, None] = {}
    for name, pid, desc, acc, study, mod in rows:
        hay = f"{name.replace('^', ' ')} {pid} {desc} {acc}".casefold()
        if all(w in hay for w in words) and (not modality or mod == modality):
            hits.setdefault(study)
    return list(hits)[:200]


def _queries(n: int) -> list[tuple[str, str]]:
    rng = random.Random(7)
    out: list[tuple[str, str]] = [("", ""), ("", "MR")]
    while len(out) < n:
        i = rng.randrange(N_STUDIES)
        ident = _identity(i)
        pick = rng.randrange(5)
        if pick == 0:
            out.append((ident["PatientName"].split("^")[0][:4].upper(), ""))
        elif pick == 1:
            out.append((ident["PatientID"][-4:], ""))
        elif pick == 2:
            out.append((ident["StudyDescription"].split()[-1].lower(), rng.choice(["", "CT"])))
        elif pick == 3:
            out.append((ident["AccessionNumber"], ""))
        else:
            out.append((f"{ident['PatientName'].split('^')[1]} {ident['PatientName'].split('^')[0]}", ""))
    return out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=400)
    args = parser.parse_args()
    from app.studydb.database import StudyDatabase

    print(f"python {platform.python_version()}, {platform.machine()}, load {os.getloadavg()[0]:.1f}")
    n = write_data(DATA)
    files = _warm(DATA)
    print(f"data: {n} files in {DATA} ({sum(f.stat().st_size for f in files) / 1e6:.0f} MB)")
    with tempfile.TemporaryDirectory() as tmp:
        db = StudyDatabase(Path(tmp) / "studies.sqlite")
        t0 = time.perf_counter()
        report = db.import_paths([DATA])
        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        rows = peer_import(files)
        t_peer = time.perf_counter() - t0
        print(f"import: {report.summary()}")
        print(f"  Isthmus import_paths   {t_import:7.1f} s  {1e6 * t_import / n:6.0f} us/instance")
        print(f"  peer pydicom read loop {t_peer:7.1f} s  {1e6 * t_peer / n:6.0f} us/instance"
              f"  (Isthmus / peer = {t_import / t_peer:.2f})")
        queries = _queries(args.queries)
        ours, theirs = [], []
        for text, modality in queries:
            t0 = time.perf_counter()
            found = db.search(text, modality=modality)
            ours.append(1e3 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            peer = peer_search(rows, text, modality)
            theirs.append(1e3 * (time.perf_counter() - t0))
            if {r.study_uid for r in found} != set(peer) and len(peer) < 200:
                print(f"  MISMATCH for {text!r} {modality!r}: {len(found)} vs {len(peer)}")
        m_ours, m_peer = statistics.median(ours), statistics.median(theirs)
        print(f"search over {len(queries)} queries ({len(db.search(limit=10_000))} studies, {n} instances):")
        print(f"  Isthmus search         median {m_ours:6.2f} ms  p95 {_pct(ours, 0.95):6.2f} ms  max {max(ours):6.2f} ms")
        print(f"  peer linear scan       median {m_peer:6.2f} ms  p95 {_pct(theirs, 0.95):6.2f} ms"
              f"  (peer / Isthmus = {m_peer / m_ours:.0f}x)")
        t0 = time.perf_counter()
        again = db.reindex()
        print(f"re-index, nothing changed: {time.perf_counter() - t0:.1f} s ({again.summary()})")
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
