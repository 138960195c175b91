"""The architecture holds: the import layers of pyproject's [tool.importlinter] contracts, and a
domain core (every module outside app/ui) that imports without Qt, in a fresh interpreter."""

import subprocess
import sys
from pathlib import Path

import app

APP_DIR = Path(app.__file__).parent


def _domain_modules() -> list[str]:
    mods = []
    for path in sorted(APP_DIR.rglob("*.py")):
        rel = path.relative_to(APP_DIR.parent).with_suffix("")
        parts = rel.parts
        if len(parts) > 1 and parts[1] == "ui":
            continue
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods.append(".".join(parts))
    return mods


def test_there_are_domain_modules():
    mods = _domain_modules()
    assert "app.dicom.model" in mods and "app.findings.model" in mods


def test_domain_core_does_not_import_qt():
    mods = _domain_modules()
    code = (
        "import importlib, sys\n"
        f"mods = {mods!r}\n"
        "for name in mods:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print('QT:' + ','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("QT:")][-1]
    assert line == "QT:", f"Qt was imported by the domain core: {line[3:]}"


def test_domain_core_imports_with_pyside6_absent():
    """What CI on a machine without PySide6 would see: a meta-path finder refuses PySide6."""
    mods = [m for m in _domain_modules() if not m.startswith("app.subcommands")]
    code = (
        "import importlib, sys\n"
        "class NoQt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
        "            raise ImportError(f'{name} is blocked: the domain core must not import Qt')\n"
        "        return None\n"
        "sys.meta_path.insert(0, NoQt())\n"
        f"for name in {mods!r}:\n"
        "    importlib.import_module(name)\n"
        "print('IMPORTED', len(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, f"the domain core needs PySide6:\n{out.stderr[-2000:]}"
    assert "IMPORTED" in out.stdout


def test_import_layers_contract_is_kept():
    """pyproject's import-linter contracts: the layers in order and the Qt wall."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run([str(lint_imports), "--no-cache"], cwd=APP_DIR.parent, capture_output=True, text=True)
    assert out.returncode == 0, f"import contracts broken:\n{out.stdout[-4000:]}{out.stderr[-2000:]}"
    assert "0 broken" in out.stdout


def test_import_app_dicom_is_qt_free():
    code = "import sys, app.dicom; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_packaging_folder_has_no_init():
    assert not (APP_DIR.parent / "packaging" / "__init__.py").exists()
