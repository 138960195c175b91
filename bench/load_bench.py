"""Load benchmark (run by hand: `.venv/bin/python bench/load_bench.py`). Not a timed test.

1. Volume load: a 300-slice 512x512 int16 CT series (written once under bench/_data/, which is
   git-ignored) loaded by Isthmus (scan + load_series), a naive pydicom loop (dcmread +
   pixel_array per file, then sort by position), SimpleITK's ImageSeriesReader, and the raw floor
   (plain file reads of the same bytes into one array).
2. Header scan: 3,000 small files in 10 series, by Isthmus scan_paths (one process, the default:
   the batch walk of app/dicom/batch_walk.py,
   and with the opt-in forked helper, ISTHMUS_SCAN_PROCESSES=2), a plain
   dcmread(stop_before_pixels=True) loop, and GDCM's gdcm.Scanner (the peer).
   `--only scan` runs this part alone. CPU time includes a forked helper's.

Each measurement runs in its own subprocess (clean peak RSS); the methods take turns, best of
--repeats kept. Module imports are timed apart from the work (a running Isthmus has imported the
DICOM stack while idle); ratios compare the work, the "with imports" figures add them back.
Files are read once before timing so every method sees a warm page cache.
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
sys.path.insert(0, str(ROOT.parent))  # this checkout's app/, not whichever one the venv has installed
DATA = ROOT / "_data"
CT_DIR = DATA / "ct300"
HDR_DIR = DATA / "headers3000"
N_SLICES, SIZE = 300, 512
N_HDR_SERIES, N_HDR_PER_SERIES = 10, 300


# ----------------------------------------------------------------------------- data


def _write_series(folder: Path, n: int, size: int, series_uid: str, study_uid: str, z0: float = 0.0,
                  rng=None) -> None:
    from synthetic_ct import write_ct_slice

    folder.mkdir(parents=True, exist_ok=True)
    yy, xx = np.mgrid[0:size, 0:size]
    body = ((xx - size / 2) ** 2 + (yy - size / 2) ** 2) < (0.4 * size) ** 2
    order = (rng or np.random.default_rng(0)).permutation(n)  # file names not in spatial order
    for w, k in enumerate(order):
        write_ct_slice(folder / f"{w:05d}", np.where(body, 1024 + 40 + (k % 50), 24).astype(np.int16),
                       study_uid=study_uid, series_uid=series_uid, instance_number=w + 1, z_mm=z0 + float(k),
                       thickness_mm=1.0, description="AX BONE 1.0", patient=("BENCH", "Bench^CT"))


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
# Each method is (imports, work): the imports are timed apart (a running Isthmus has them loaded
# already: the window imports the DICOM stack while idle), the ratios compare the work.


def _count_parses():
    """Counter of header parses by the fast reader and the batch walk (a counter, not a timing).
    pydicom is not imported for it: if the work imports pydicom at all, that is reported instead."""
    from app.dicom import batch_walk, fastheader

    counts = {"fast": 0, "pydicom": 0}
    real_parse, real_walk = fastheader._parse, batch_walk.walk_groups

    def parse(*a, **k):
        counts["fast"] += 1
        return real_parse(*a, **k)

    def walk(*a, **k):
        out = real_walk(*a, **k)
        counts["fast"] += sum(h is not None for h in out[0])
        return out

    fastheader._parse = parse
    batch_walk.walk_groups = walk
    return counts


def i_isthmus():
    import app.dicom.load
    import app.dicom.scan
    import app.dicom.volume  # noqa: F401

    return _count_parses()


def m_isthmus(folder: Path, counts) -> dict:
    from app.dicom import load_series, scan_paths

    t = time.perf_counter()
    entry = scan_paths([folder]).all_series()[0]
    t_scan = time.perf_counter() - t
    parsed_scan = counts["fast"]
    t = time.perf_counter()
    vol = load_series(entry)
    t_load = time.perf_counter() - t
    assert vol.array.shape == (N_SLICES, SIZE, SIZE) and vol.array.dtype == np.int16, (vol.array.shape, vol.array.dtype)
    return {"checksum": int(vol.array[::37, ::61, ::53].astype(np.int64).sum()), "scan_s": t_scan, "load_s": t_load,
            "parsed_scan": parsed_scan, "parsed_load": counts["fast"] - parsed_scan,
            "pydicom_imported": "pydicom" in sys.modules}


def i_pydicom():
    import pydicom
    import pydicom.pixels  # noqa: F401


def m_naive(folder: Path, _imp) -> dict:
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


def i_sitk():
    import SimpleITK  # noqa: F401


def m_sitk(folder: Path, _imp) -> dict:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(folder)))
    img = reader.Execute()
    arr = sitk.GetArrayViewFromImage(img)
    return {"checksum": int(arr[::37, ::61, ::53].astype(np.int64).sum()), "pixel_type": img.GetPixelIDTypeAsString()}


def m_raw(folder: Path, _imp) -> dict:
    """The floor: the pixel bytes of every file read into one preallocated volume."""
    files = _files(folder)
    n_bytes = SIZE * SIZE * 2
    vol = np.empty((len(files), SIZE, SIZE), dtype=np.int16)
    for k, p in enumerate(files):
        with open(p, "rb", buffering=0) as f:
            f.seek(-n_bytes, os.SEEK_END)
            f.readinto(memoryview(vol[k]).cast("B"))
    return {"checksum": None}


def i_scan():
    import app.dicom.scan  # noqa: F401


def h_isthmus(folder: Path, _imp) -> dict:
    from app.dicom import scan_paths

    res = scan_paths([folder])
    return {"series": len(res.all_series()), "files": sum(len(e.instances) for e in res.all_series())}


def h_stages(folder: Path, _imp) -> dict:
    """scan_paths with the CPU time of its stages: enumerate (list the files), read (the first
    bytes of each), walk (the batch walk with its column decode), group (build_patients); record
    (the read_header checks and instance_header per file, and the per-file reader for files the
    walk hands over) is the rest."""
    from app.dicom import batch_walk, scan, scan_paths

    stages = {"enumerate": 0.0, "read": 0.0, "walk": 0.0, "group": 0.0}

    def timed(name, fn):
        def wrapper(*a, **k):
            t = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                stages[name] += time.process_time() - t
        return wrapper

    scan.enumerate_files = timed("enumerate", scan.enumerate_files)
    batch_walk.read_heads = timed("read", batch_walk.read_heads)
    batch_walk.walk_groups = timed("walk", batch_walk.walk_groups)
    scan.build_patients = timed("group", scan.build_patients)
    t = time.process_time()
    res = scan_paths([folder])
    total = time.process_time() - t
    stages["record"] = total - sum(stages.values())
    return {"series": len(res.all_series()), "stages": stages, "stage_total": total}


def h_pydicom(folder: Path, _imp) -> dict:
    import pydicom

    n = 0
    for p in _files(folder):
        pydicom.dcmread(p, stop_before_pixels=True)
        n += 1
    return {"files": n}


def i_gdcm():
    import gdcm  # noqa: F401


def h_gdcm(folder: Path, _imp) -> dict:
    import gdcm

    files = [str(p) for p in _files(folder)]
    scanner = gdcm.Scanner()
    for tag in ((0x0020, 0x000E), (0x0020, 0x0032), (0x0020, 0x0037), (0x0008, 0x0060), (0x0028, 0x0010)):
        scanner.AddTag(gdcm.Tag(*tag))
    ok = scanner.Scan(files)
    return {"files": len(files), "ok": bool(ok)}


METHODS = {"isthmus": (i_isthmus, m_isthmus), "naive-pydicom": (i_pydicom, m_naive), "simpleitk": (i_sitk, m_sitk),
           "raw-floor": (lambda: None, m_raw), "scan-isthmus": (i_scan, h_isthmus),
           "scan-isthmus-2proc": (i_scan, h_isthmus), "scan-pydicom": (i_pydicom, h_pydicom),
           "scan-gdcm": (i_gdcm, h_gdcm), "scan-isthmus-stages": (i_scan, h_stages)}
# environment of a method's subprocess: the opt-in two-process scan (app/dicom/scan_pool.py)
METHOD_ENV = {"scan-isthmus-2proc": {"ISTHMUS_SCAN_PROCESSES": "2"}}


def run_one(name: str, folder: Path) -> None:
    imports, work = METHODS[name]
    t = time.perf_counter()
    imp = imports()
    import_s = time.perf_counter() - t
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # a forked scan helper's CPU counts too
    t = time.perf_counter()
    extra = work(folder, imp)
    seconds = time.perf_counter() - t
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(b.ru_utime - a.ru_utime + b.ru_stime - a.ru_stime for a, b in ((r0, r1), (c0, c1)))
    rss_mb = r1.ru_maxrss / 1024.0
    print(json.dumps({"name": name, "seconds": seconds, "import_s": import_s, "cpu_s": cpu, "peak_rss_mb": rss_mb,
                      **extra}))


def _once(name: str, folder: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ISTHMUS_SCAN_PROCESSES"} | METHOD_ENV.get(name, {})
    out = subprocess.run([sys.executable, __file__, "--run", name, "--folder", str(folder)],
                         capture_output=True, text=True, cwd=ROOT.parent, env=env)
    if out.returncode != 0:
        return {"name": name, "error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_all(names: list[str], folder: Path, repeats: int) -> dict[str, dict]:
    """Best run (least work seconds) of each method; the methods take turns, so a busy moment
    of the machine falls on all of them alike."""
    best: dict[str, dict] = {}
    for _ in range(repeats):
        for name in names:
            res = _once(name, folder)
            if "error" in res:
                best.setdefault(name, res)
            elif "error" in best.get(name, {"error": 1}) or res["seconds"] < best[name]["seconds"]:
                best[name] = res
    return best


def _row(n: str, r: dict, size_mb: float | None, n_files: int | None) -> str:
    if "error" in r:
        return f"{n:18s} ERROR {r['error']}"
    rate = f"{size_mb / r['seconds']:8.1f}" if size_mb else f"{n_files / r['seconds']:8.0f}"
    return (f"{n:18s} {r['seconds']:8.3f} {r['cpu_s']:7.3f} {r['import_s']:8.3f} {rate} "
            f"{r['peak_rss_mb']:12.1f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", choices=sorted(METHODS), help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=5, help="runs per method, best kept (default 5)")
    ap.add_argument("--only", choices=("volume", "scan"), help="run one part only")
    ap.add_argument("--stages", action="store_true", help="print the scan's CPU per stage (on with --only scan)")
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
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}; command: {' '.join(sys.argv)}")
    if args.only != "scan":
        print(f"\nVolume load: {N_SLICES} x {SIZE}x{SIZE} int16 CT, {file_mb:.1f} MB of files, volume {volume_mb:.1f} MB "
              f"(best of {args.repeats}; seconds = work after imports)")
        res = measure_all(["raw-floor", "isthmus", "naive-pydicom", "simpleitk"], CT_DIR, args.repeats)
        print(f"{'method':16s} {'seconds':>8s} {'CPU s':>7s} {'import s':>8s} {'MB/s':>8s} {'peak RSS MB':>12s}  notes")
        for n, r in res.items():
            notes = (f"scan {r['scan_s']:.3f} s + load {r['load_s']:.3f} s; headers parsed: scan {r['parsed_scan']}, "
                     f"load {r['parsed_load']} (fast reader; pydicom imported: {r['pydicom_imported']})") if "scan_s" in r else ""
            print(_row(n, r, file_mb, None) + "  " + notes)
        if all("error" not in r for r in res.values()):
            iso, raw = res["isthmus"], res["raw-floor"]["seconds"]
            print(f"isthmus scan + load {iso['seconds']:.3f} s vs raw floor {raw:.3f} s: {iso['seconds'] / raw:.2f}x "
                  f"(target <= 3x); load alone {iso['load_s'] / raw:.2f}x; with its imports "
                  f"{(iso['seconds'] + iso['import_s']) / raw:.2f}x")
            print(f"naive pydicom / isthmus {res['naive-pydicom']['seconds'] / iso['seconds']:.2f}x, "
                  f"SimpleITK / isthmus {res['simpleitk']['seconds'] / iso['seconds']:.2f}x; isthmus peak RSS "
                  f"{iso['peak_rss_mb']:.0f} MB for a {volume_mb:.0f} MB volume")
            if iso["checksum"] != res["naive-pydicom"]["checksum"]:
                print("WARNING: isthmus and naive pydicom volumes differ!")
            print("\n| 300-slice CT | Isthmus scan + load | raw-read floor | ratio | CPU s (Isthmus / floor) | target |")
            print("|---|---:|---:|---:|---:|---|")
            ratio = iso["seconds"] / raw
            print(f"| seconds | {iso['seconds']:.3f} | {raw:.3f} | {ratio:.2f}x | {iso['cpu_s']:.3f} / "
                  f"{res['raw-floor']['cpu_s']:.3f} | <= 3x: {'met' if ratio <= 3 else '**not met**'} |")
    if args.only != "volume":
        n_hdr = len(_files(HDR_DIR))
        print(f"\nHeader scan: {n_hdr} files in {N_HDR_SERIES} series (best of {args.repeats}, methods taking turns; "
              f"load average now {', '.join(f'{x:.2f}' for x in os.getloadavg())})")
        hres = measure_all(["scan-isthmus", "scan-isthmus-2proc", "scan-pydicom", "scan-gdcm"], HDR_DIR, args.repeats)
        print(f"{'method':18s} {'seconds':>8s} {'CPU s':>7s} {'import s':>8s} {'files/s':>8s} {'peak RSS MB':>12s}")
        for n, r in hres.items():
            print(_row(n, r, None, n_hdr))
        if all("error" not in r for r in hres.values()):
            iso, two, gd, pyd = hres["scan-isthmus"], hres["scan-isthmus-2proc"], hres["scan-gdcm"], hres["scan-pydicom"]
            print(f"isthmus scan {iso['seconds']:.3f} s vs GDCM scanner {gd['seconds']:.3f} s: "
                  f"{iso['seconds'] / gd['seconds']:.2f}x (target <= 1.2x; CPU {iso['cpu_s'] / gd['cpu_s']:.2f}x); "
                  f"pydicom loop {pyd['seconds']:.3f} s = {pyd['seconds'] / iso['seconds']:.2f}x isthmus; with imports "
                  f"{(iso['seconds'] + iso['import_s']) / (gd['seconds'] + gd['import_s']):.2f}x GDCM; found "
                  f"{iso.get('series')} series / {iso.get('files')} files (GDCM reads 5 tags and groups nothing)")
            print("\nTable (paste into bench/RESULTS.md):\n")
            print("| header scan, 3,000 files | seconds | CPU s (with helper) | / GDCM scanner, seconds | / GDCM, CPU | target |")
            print("|---|---:|---:|---:|---:|---|")
            for label, r in (("Isthmus, one process (default)", iso),
                             ("Isthmus, ISTHMUS_SCAN_PROCESSES=2 (opt-in)", two),
                             ("pydicom dcmread loop", pyd), ("GDCM scanner (peer)", gd)):
                verdict = ("met" if r["seconds"] / gd["seconds"] <= 1.2 else "**not met**") if r is iso or r is two else ""
                print(f"| {label} | {r['seconds']:.3f} | {r['cpu_s']:.3f} | {r['seconds'] / gd['seconds']:.2f}x | "
                      f"{r['cpu_s'] / gd['cpu_s']:.2f}x | {'<= 1.2x: ' + verdict if verdict else ''} |")
    if args.only == "scan" or args.stages:
        st = measure_all(["scan-isthmus-stages"], HDR_DIR, args.repeats)["scan-isthmus-stages"]
        if "error" not in st:
            n_hdr = len(_files(HDR_DIR))
            print(f"\nIsthmus scan by stage (CPU us per file in the fastest of {args.repeats} runs; "
                  f"total {st['stage_total'] * 1e6 / n_hdr:.1f} us per file):")
            print("  " + ", ".join(f"{k} {v * 1e6 / n_hdr:.1f}" for k, v in st["stages"].items()))
    print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
