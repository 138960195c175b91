"""Importing app.dicom (and the info command module) stays light: no pydicom, SimpleITK or Qt."""

import subprocess
import sys


def test_import_app_dicom_is_light():
    code = ("import sys, app.dicom, app.subcommands.info\n"
            "from app.dicom import scan_paths, load_series, load_preview\n"
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'pydicom', 'SimpleITK', 'PySide6'})\n"
            "print('HEAVY:' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"
