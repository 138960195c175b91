"""Load benchmark (run by hand: `.venv/bin/python bench/load_bench.py`). Not a timed test.

1. Volume load: a 300-slice 512x512 int16 CT series (written once under bench/_data/, which is
   git-ignored) loaded by Isthmus (scan + load_series), a naive pydicom loop (dcmread +
   pixel_array per file, then sort by position), SimpleITK's ImageSeriesReader, and the raw floor
   (plain file reads of the same bytes into one array).
2. Header scan: 3,000 small files in 10 series, by Isthmus scan_paths, a plain
   dcmread(stop_before_pixels=True) loop, and GDCM's gdcm.Scanner.

Each measurement runs in its own subprocess (clean peak RSS). Files are read once before
timing so every method sees a warm page cache. Prints seconds, MB/s, peak RSS and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "_data"
CT_DIR = DATA / "ct300"
HDR_DIR = DATA / "headers3000"
N_SLICES, SIZE = 300, 512
N_HDR_SERIES, N_HDR_PER_SERIES = 10, 300


# ----------------------------------------------------------------------------- data


def _write_series(folder: Path, n: int, size: int, series_uid: str, study_uid: str, z0: float = 0.0,
                  rng=None) -> None:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size]
    body = ((xx - size / 2) ** 2 + (yy - size / 2) ** 2) < (0.4 * size) ** 2
    order = (rng or np.random.default_rng(0)).permutation(n)  # file names not in spatial order
    for w, k in enumerate(order):
        ds = Dataset()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.SOPClassUID = meta.MediaStorageSOPClassUID
        ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
        ds.Modality = "CT"
        ds.PatientID, ds.PatientName = "BENCH", "Bench^CT"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.FrameOfReferenceUID = study_uid + ".1"
        ds.SeriesDescription = "AX BONE 1.0"
        ds.InstanceNumber = int(w + 1)
        ds.ImagePositionPatient = [-0.5 * size * 0.7, -0.5 * size * 0.7, z0 + float(k)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.7, 0.7]
        ds.SliceThickness = 1.0
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.WindowCenter, ds.WindowWidth = 400, 1800
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 16
        ds.HighBit = 15
        ds.PixelRepresentation = 1
        img = np.where(body, 1024 + 40 + (k % 50), 24).astype(np.int16)
        ds.PixelData = img.tobytes()
        ds.save_as(folder / f"{w:05d}", enforce_file_format=True)


def ensure_data() -> None:
    from pydicom.uid import generate_uid

    if not (CT_DIR / ".complete").exists():
        print(f"writing {N_SLICES} CT slices to {CT_DIR} ...", flush=True)
        _write_series(CT_DIR, N_SLICES, SIZE, generate_uid(), generate_uid())
        (CT_DIR / ".complete").write_text("ok")
    if not (HDR_DIR / ".complete").exists():
        print(f"writing {N_HDR_SERIES * N_HDR_PER_SERIES} small files to {HDR_DIR} ...", flush=True)
        study = generate_uid()
        for s in range(N_HDR_SERIES):
            _write_series(HDR_DIR / f"s{s:02d}", N_HDR_PER_SERIES, 16, generate_uid(), study, z0=s * 1000.0,
                          rng=np.random.default_rng(s))
        (HDR_DIR / ".complete").write_text("ok")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def warm(folder: Path) -> None:
    for p in _files(folder):
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass


# ----------------------------------------------------------------------------- methods (subprocess)


def m_isthmus(folder: Path) -> dict:
    from app.dicom import load_series, scan_paths

    t = time.perf_counter()
    entry = scan_paths([folder]).all_series()[0]
    t_scan = time.perf_counter() - t
    vol = load_series(entry)
    assert vol.array.shape == (N_SLICES, SIZE, SIZE) and vol.array.dtype == np.int16, (vol.array.shape, vol.array.dtype)
    return {"checksum": int(vol.array[::37, ::61, ::53].astype(np.int64).sum()), "scan_s": t_scan}


def m_naive(folder: Path) -> dict:
    import pydicom

    items = []
    for p in _files(folder):
        ds = pydicom.dcmread(p)
        items.append((float(ds.ImagePositionPatient[2]), ds.pixel_array, float(ds.RescaleSlope),
                      float(ds.RescaleIntercept)))
    items.sort(key=lambda it: it[0])
    vol = np.stack([it[1] for it in items])
    vol += np.int16(items[0][3])
    return {"checksum": int(vol[::37, ::61, ::53].astype(np.int64).sum())}


def m_sitk(folder: Path) -> dict:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    img = reader.Execute()
    arr = sitk.GetArrayViewFromImage(img)
    return {"checksum": int(arr[::37, ::61, ::53].astype(np.int64).sum()), "pixel_type": img.GetPixelIDTypeAsString()}


def m_raw(folder: Path) -> dict:
    files = _files(folder)
    n_bytes = SIZE * SIZE * 2
    vol = np.empty((len(files), SIZE, SIZE), dtype=np.int16)
    for k, p in enumerate(files):
        with open(p, "rb") as f:
            data = f.read()
        vol[k] = np.frombuffer(data, dtype=np.int16, count=SIZE * SIZE, offset=len(data) - n_bytes).reshape(SIZE, SIZE)
    return {"checksum": None}


def h_isthmus(folder: Path) -> dict:
    from app.dicom import scan_paths

    res = scan_paths([folder])
    return {"series": len(res.all_series()), "files": sum(len(e.instances) for e in res.all_series())}


def h_pydicom(folder: Path) -> dict:
    import pydicom

    n = 0
    for p in _files(folder):
        pydicom.dcmread(p, stop_before_pixels=True)
        n += 1
    return {"files": n}


def h_gdcm(folder: Path) -> dict:
    import gdcm

    files = [str(p) for p in _files(folder)]
    scanner = gdcm.Scanner()
    for tag in ((0x0020, 0x000E), (0x0020, 0x0032), (0x0020, 0x0037), (0x0008, 0x0060), (0x0028, 0x0010)):
        scanner.AddTag(gdcm.Tag(*tag))
    ok = scanner.Scan(files)
    return {"files": len(files), "ok": bool(ok)}


METHODS = {"isthmus": m_isthmus, "naive-pydicom": m_naive, "simpleitk": m_sitk, "raw-floor": m_raw,
           "scan-isthmus": h_isthmus, "scan-pydicom": h_pydicom, "scan-gdcm": h_gdcm}


def run_one(name: str, folder: Path) -> None:
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t = time.perf_counter()
    extra = METHODS[name](folder)
    seconds = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    rss_mb = r1.ru_maxrss / 1024.0
    print(json.dumps({"name": name, "seconds": seconds, "cpu_s": cpu, "peak_rss_mb": rss_mb, **extra}))


def measure(name: str, folder: Path, repeats: int) -> dict:
    best = None
    for _ in range(repeats):
        out = subprocess.run([sys.executable, __file__, "--run", name, "--folder", str(folder)],
                             capture_output=True, text=True, cwd=ROOT.parent)
        if out.returncode != 0:
            return {"name": name, "error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
        res = json.loads(out.stdout.strip().splitlines()[-1])
        if best is None or res["seconds"] < best["seconds"]:
            best = res
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", choices=sorted(METHODS), help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=2, help="runs per method, best kept (default 2)")
    args = ap.parse_args()
    if args.run:
        run_one(args.run, Path(args.folder))
        return 0
    ensure_data()
    warm(CT_DIR)
    warm(HDR_DIR)
    volume_mb = N_SLICES * SIZE * SIZE * 2 / 2**20
    file_mb = sum(p.stat().st_size for p in _files(CT_DIR)) / 2**20
    print(f"date {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}; load average before: "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\nVolume load: {N_SLICES} x {SIZE}x{SIZE} int16 CT, {file_mb:.1f} MB of files, volume {volume_mb:.1f} MB")
    res = {n: measure(n, CT_DIR, args.repeats) for n in ("raw-floor", "isthmus", "naive-pydicom", "simpleitk")}
    print(f"{'method':16s} {'seconds':>8s} {'CPU s':>7s} {'MB/s':>8s} {'peak RSS MB':>12s}  notes")
    for n, r in res.items():
        if "error" in r:
            print(f"{n:16s} ERROR {r['error']}")
            continue
        notes = f"scan {r['scan_s']:.3f} s" if "scan_s" in r else ""
        print(f"{n:16s} {r['seconds']:8.3f} {r['cpu_s']:7.3f} {file_mb / r['seconds']:8.1f} "
              f"{r['peak_rss_mb']:12.1f}  {notes}")
    if all("error" not in r for r in res.values()):
        iso = res["isthmus"]["seconds"]
        print(f"ratios: naive/isthmus {res['naive-pydicom']['seconds'] / iso:.2f}x (target >= 2), "
              f"simpleitk/isthmus {res['simpleitk']['seconds'] / iso:.2f}x (target > 1), "
              f"isthmus/raw {iso / res['raw-floor']['seconds']:.2f}x (target <= 5); "
              f"isthmus peak RSS {res['isthmus']['peak_rss_mb']:.0f} MB vs limit {volume_mb + 150:.0f} MB "
              f"(volume + 150 MB)")
        if res["isthmus"]["checksum"] != res["naive-pydicom"]["checksum"]:
            print("WARNING: isthmus and naive pydicom volumes differ!")
    n_hdr = len(_files(HDR_DIR))
    print(f"\nHeader scan: {n_hdr} files in {N_HDR_SERIES} series")
    hres = {n: measure(n, HDR_DIR, args.repeats) for n in ("scan-isthmus", "scan-pydicom", "scan-gdcm")}
    print(f"{'method':16s} {'seconds':>8s} {'CPU s':>7s} {'files/s':>9s} {'peak RSS MB':>12s}")
    for n, r in hres.items():
        if "error" in r:
            print(f"{n:16s} ERROR {r['error']}")
            continue
        print(f"{n:16s} {r['seconds']:8.3f} {r['cpu_s']:7.3f} {n_hdr / r['seconds']:9.0f} {r['peak_rss_mb']:12.1f}")
    if "error" not in hres["scan-isthmus"]:
        print(f"isthmus scan {hres['scan-isthmus']['seconds']:.3f} s (target <= 0.5 s), found "
              f"{hres['scan-isthmus'].get('series')} series / {hres['scan-isthmus'].get('files')} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
