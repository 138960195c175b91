"""Issue 11 item 10 (scan side): private and unsupported compressions are named at scan time."""

from pathlib import Path

import numpy as np
from pydicom import dcmwrite
from pydicom.encaps import encapsulate

from app.dicom import scan_paths

from .conftest import CT_STORAGE, base_dataset, set_pixels

PHILIPS_PRIVATE = "1.3.46.670589.33.1.4.1"
MPEG2 = "1.2.840.10008.1.2.4.100"


def _write_series(folder: Path, syntax: str, n: int = 3) -> None:
    folder.mkdir(parents=True)
    for k in range(n):
        ds = base_dataset(
            CT_STORAGE, "CT", TransferSyntaxUID=syntax, SeriesInstanceUID=f"1.2.826.0.1.3680043.8.498.9{len(syntax)}"
        )
        ds.ImagePositionPatient = [0.0, 0.0, 1.5 * k]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing = [0.5, 0.5]
        set_pixels(ds, np.zeros((4, 4), dtype=np.int16))
        ds.PixelData = encapsulate([b"\x00\x01vendor-bytes"])
        ds["PixelData"].VR = "OB"
        ds.preamble = b"\0" * 128
        dcmwrite(folder / f"IM{k}", ds, implicit_vr=False, little_endian=True)


def test_private_vendor_compression_is_named_at_scan(tmp_path):
    _write_series(tmp_path / "philips", PHILIPS_PRIVATE)
    [entry] = scan_paths([tmp_path]).all_series()
    assert entry.n_images == 3
    assert entry.transfer_syntax == "private: Philips private compression"
    assert any(w.startswith("private compression: Philips private compression") for w in entry.warnings)


def test_unknown_private_uid_is_called_private(tmp_path):
    _write_series(tmp_path / "other", "1.2.3.4.5.6.7")
    [entry] = scan_paths([tmp_path]).all_series()
    assert entry.transfer_syntax == "private: 1.2.3.4.5.6.7"
    assert any("private compression" in w and "1.2.3.4.5.6.7" in w for w in entry.warnings)


def test_standard_compression_without_decoder_is_called_unsupported(tmp_path):
    _write_series(tmp_path / "mpeg", MPEG2)
    [entry] = scan_paths([tmp_path]).all_series()
    assert any(w.startswith("unsupported compression: MPEG2") for w in entry.warnings)


def test_decodable_syntax_has_no_compression_warning(tmp_path):
    _write_series(tmp_path / "jpeg", "1.2.840.10008.1.2.4.70")
    [entry] = scan_paths([tmp_path]).all_series()
    assert not any("compression" in w for w in entry.warnings)
