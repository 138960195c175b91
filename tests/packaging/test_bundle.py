"""The installable Isthmus: packaging/build.sh builds the PyInstaller bundle and the .deb (or a
bundle newer than every source file is reused); the frozen self-test passes from a folder outside
the tree with a clean environment, and again from the .deb unpacked into a temporary root."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

import app
from app.core.paths import sample_dicom_dir
from app.selftest import run_self_test

pytestmark = pytest.mark.slow

ROOT = Path(app.__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUNDLE = DIST / "isthmus"
DEB = DIST / f"isthmus_{app.__version__}_amd64.deb"
SOURCES = ("app", "resources", "sample_dicom", "pyproject.toml", "packaging/isthmus.spec", "packaging/build.sh",
           "packaging/build_deb.sh", "packaging/isthmus.desktop")
BUNDLE_LIMIT_MB = 400


def _newest_source_mtime() -> float:
    newest = 0.0
    for name in SOURCES:
        p = ROOT / name
        files = [p] if p.is_file() else (f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts)
        newest = max([newest, *(f.stat().st_mtime for f in files)])
    return newest


def _fresh() -> bool:
    exe = BUNDLE / "isthmus"
    return exe.is_file() and DEB.is_file() and min(exe.stat().st_mtime, DEB.stat().st_mtime) > _newest_source_mtime()


@pytest.fixture(scope="module")
def built() -> dict:
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not installed")
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PyInstaller not installed (pip install -e '.[package]'); CI installs it")
    t = time.perf_counter()
    reused = _fresh()
    if not reused:
        res = subprocess.run([str(ROOT / "packaging" / "build.sh"), sys.executable], cwd=ROOT, capture_output=True,
                             text=True, timeout=1800)
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-6000:]
    return {"reused": reused, "seconds": time.perf_counter() - t}


def _clean_env(home: Path) -> dict:
    """No venv, no PYTHONPATH, no Qt/ISTHMUS overrides: what a fresh login has."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}


def _self_test(exe: Path, tmp_path: Path) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    report = tmp_path / "selftest.json"
    res = subprocess.run([str(exe), "--self-test", "--json", str(report)], cwd=tmp_path, env=_clean_env(home),
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-3000:]
    assert "frozen bundle" in res.stdout and "SELF-TEST PASSED" in res.stdout
    assert not [p for p in home.rglob("*") if p.is_file()], "the self-test wrote into the user's home"
    return json.loads(report.read_text())


def _expected_rows() -> set[tuple[str, str]]:
    """(step, subject) of every Qt-free check, run from source: the bundle must do all of them."""
    return {(r.step, r.subject) for r in run_self_test(sample_dicom_dir(), render=None)}


def test_bundle_self_test_passes_outside_the_tree(built, tmp_path):
    assert ROOT not in tmp_path.resolve().parents  # run from outside the source tree
    result = _self_test(BUNDLE / "isthmus", tmp_path)
    rows = {(r["step"], r["subject"]) for r in result["results"]}
    assert _expected_rows() <= rows
    steps = {r["step"] for r in result["results"]}
    assert {"window", "about", "scan", "load", "render", "protocol", "pathway", "sr", "decode"} <= steps
    print(f"\nbundle: build {'reused' if built['reused'] else 'ran'} in {built['seconds']:.0f} s, "
          f"frozen self-test {result['seconds']:.1f} s")


def test_deb_unpacked_into_a_root_passes_the_self_test(built, tmp_path):
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(DEB), str(root)], check=True, timeout=600)
    fields = {k: subprocess.run(["dpkg-deb", "-f", str(DEB), k], capture_output=True, text=True,
                                check=True).stdout.strip() for k in ("Package", "Version", "Architecture", "Depends")}
    assert (fields["Package"], fields["Version"], fields["Architecture"]) == ("isthmus", app.__version__, "amd64")
    link = root / "usr" / "bin" / "isthmus"
    assert link.is_symlink() and os.readlink(link) == "/opt/isthmus/isthmus"
    desktop = (root / "usr/share/applications/isthmus.desktop").read_text()
    assert "MimeType=application/dicom;" in desktop and "Categories=Graphics;MedicalSoftware;Science;" in desktop
    assert re.search(r"^Icon=isthmus$", desktop, re.M)
    if shutil.which("desktop-file-validate"):  # .ci/run installs desktop-file-utils
        res = subprocess.run(["desktop-file-validate", str(root / "usr/share/applications/isthmus.desktop")],
                             capture_output=True, text=True)
        assert res.returncode == 0 and "error:" not in res.stdout, res.stdout
    for size in ("48x48", "128x128", "256x256"):
        assert (root / f"usr/share/icons/hicolor/{size}/apps/isthmus.png").is_file()
    result = _self_test(root / "opt" / "isthmus" / "isthmus", tmp_path)
    assert all(r["ok"] for r in result["results"])


def test_bundle_holds_no_build_machine_path_and_fits_the_size_limit(built):
    needles = {str(ROOT).encode(), str(Path(sys.prefix).resolve()).encode()}
    hits, total = [], 0
    for f in BUNDLE.rglob("*"):
        if f.is_file() and not f.is_symlink():
            data = f.read_bytes()
            total += len(data)
            hits += [f"{f.relative_to(BUNDLE)}: {n.decode()}" for n in needles if n in data]
    assert not hits, hits[:20]
    assert total / 1e6 < BUNDLE_LIMIT_MB, f"bundle is {total / 1e6:.0f} MB"


def _depends(deb: Path) -> set[str]:
    text = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True,
                          check=True).stdout
    return {re.split(r"[\s(]", d.strip())[0] for d in text.split(",") if d.strip()}


def test_deb_depends_cover_the_system_libraries_the_bundle_loads(built):
    """Every library a bundled binary takes from the system belongs to a Depends package, and Qt's
    xcb and offscreen platform plugins find all of theirs (CI installs them in .ci/run)."""
    if shutil.which("ldd") is None or shutil.which("dpkg") is None:
        pytest.skip("ldd or dpkg not available")
    depends = _depends(DEB)
    internal = BUNDLE / "_internal"
    env = {"PATH": "/usr/bin:/bin", "LD_LIBRARY_PATH": f"{internal}:{internal / 'PySide6/Qt/lib'}"}
    system_libs: dict[str, str] = {}
    missing = []
    for f in sorted(internal.rglob("*.so*")):
        if f.is_symlink() or not f.is_file():
            continue
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, env=env).stdout
        for name, target in re.findall(r"^\s*(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$", out, re.M):
            if target == "not found":
                if "/plugins/platforms/" in str(f):
                    missing.append(f"{f.name}: {name}")
            elif not target.startswith(str(internal)):
                system_libs[name] = target
    assert not missing, f"Qt platform plugin libraries not found (install them; .deb Depends): {missing}"
    owners = {}
    for name, path in system_libs.items():
        res = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
        if res.returncode != 0:
            res = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        owners[name] = res.stdout.split(":")[0].strip() if res.returncode == 0 else "?"
    uncovered = {n: o for n, o in owners.items() if o not in depends}
    assert not uncovered, f"system libraries whose package is not in Depends: {uncovered}"
