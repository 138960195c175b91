"""Classification: radiograph views (incl. ViewCodeSequence), MR sequences, planes."""

import pytest
from pydicom.dataset import Dataset

from app.dicom import classify, load_series, scan_paths
from app.dicom.model import MRSequence, Plane, RadiographView

from .conftest import radiograph_dataset, save


def _ds(**kw) -> Dataset:
    ds = Dataset()
    for k, v in kw.items():
        setattr(ds, k, v)
    return ds


@pytest.mark.parametrize("kw, expected", [
    (dict(ViewPosition="AP"), RadiographView.AP),
    (dict(ViewPosition="PA"), RadiographView.PA),
    (dict(ViewPosition="LL"), RadiographView.LATERAL),
    (dict(ViewPosition="RL"), RadiographView.LATERAL),
    (dict(ViewPosition="LLO"), RadiographView.LEFT_OBLIQUE),
    (dict(ViewPosition="RPO"), RadiographView.RIGHT_OBLIQUE),
    (dict(SeriesDescription="L-SPINE LT OBL"), RadiographView.LEFT_OBLIQUE),
    (dict(SeriesDescription="L-SPINE RT OBL"), RadiographView.RIGHT_OBLIQUE),
    (dict(ViewPosition="AP", SeriesDescription="L-SPINE LT OBL"), RadiographView.LEFT_OBLIQUE),
    (dict(SeriesDescription="L-SPINE OBL", ImageLaterality="R"), RadiographView.RIGHT_OBLIQUE),
    (dict(SeriesDescription="L-SPINE OBL"), RadiographView.UNKNOWN),
    (dict(SeriesDescription="LUMBAR LAT"), RadiographView.LATERAL),
    (dict(SeriesDescription="L-SPINE AP"), RadiographView.AP),
    (dict(PatientOrientation=["P", "F"]), RadiographView.LATERAL),
    (dict(SeriesDescription="LUMBAR SPINE"), RadiographView.UNKNOWN),
    (dict(), RadiographView.UNKNOWN),
])
def test_radiograph_view(kw, expected):
    assert classify.radiograph_view(_ds(**kw)) is expected


@pytest.mark.parametrize("code, expected", [
    (("399348003", "SCT", "antero-posterior"), RadiographView.AP),
    (("272479007", "SCT", "postero-anterior"), RadiographView.PA),
    (("399067008", "SCT", "lateral"), RadiographView.LATERAL),
    (("399173006", "SCT", "left lateral"), RadiographView.LATERAL),
    (("399006002", "SCT", "left posterior oblique"), RadiographView.LEFT_OBLIQUE),
    (("399356000", "SCT", "right anterior oblique"), RadiographView.RIGHT_OBLIQUE),
    (("R-10206", "SRT", "antero-posterior"), RadiographView.AP),
    (("X-1", "99LOCAL", "Left oblique view"), RadiographView.LEFT_OBLIQUE),
])
def test_view_code_sequence(code, expected):
    ds = radiograph_dataset(view_code=code)
    assert classify.radiograph_view(ds) is expected


def test_view_code_oblique_beats_view_position_ap():
    ds = radiograph_dataset(view_position="AP", view_code=("399038007", "SCT", "right posterior oblique"))
    assert classify.radiograph_view(ds) is RadiographView.RIGHT_OBLIQUE


@pytest.mark.parametrize("kw, expected", [
    (dict(SeriesDescription="SAG STIR"), MRSequence.STIR),
    (dict(SeriesDescription="SAG T1"), MRSequence.T1),
    (dict(SeriesDescription="SAG T2"), MRSequence.T2),
    (dict(SeriesDescription="SAG T2 FS"), MRSequence.STIR),
    (dict(SeriesDescription="sag t2_tse_fs"), MRSequence.STIR),
    (dict(SeriesDescription="SAG T2", ScanOptions=["FS"], EchoTime=90, RepetitionTime=3500), MRSequence.STIR),
    (dict(SeriesDescription="T2 FLAIR"), MRSequence.OTHER),
    (dict(ScanningSequence=["IR", "SE"], InversionTime=150, EchoTime=40, RepetitionTime=4000), MRSequence.STIR),
    (dict(ScanningSequence="IR", InversionTime=2500, EchoTime=120, RepetitionTime=9000), MRSequence.OTHER),
    (dict(ScanningSequence="SE", EchoTime=12, RepetitionTime=550), MRSequence.T1),
    (dict(ScanningSequence="SE", EchoTime=100, RepetitionTime=4000), MRSequence.T2),
    (dict(ScanningSequence="SE", EchoTime=95, RepetitionTime=3800, ScanOptions=["FS", "PFP"]), MRSequence.STIR),
    (dict(SequenceName="*tir2d1_13", InversionTime=160, EchoTime=50, RepetitionTime=3500), MRSequence.STIR),
    (dict(ScanningSequence="SE", EchoTime=30, RepetitionTime=2500), MRSequence.OTHER),
    (dict(), MRSequence.OTHER),
])
def test_mr_sequence(kw, expected):
    assert classify.mr_sequence(_ds(**kw)) is expected


@pytest.mark.parametrize("iop, expected", [
    ((1, 0, 0, 0, 1, 0), Plane.AXIAL),
    ((0, 1, 0, 0, 0, -1), Plane.SAGITTAL),
    ((1, 0, 0, 0, 0, -1), Plane.CORONAL),
    ((0.9848, 0.0, 0.1736, 0.0, 1.0, 0.0), Plane.AXIAL),  # 10 degrees off: still axial
    ((0.9659, 0.0, 0.2588, 0.0, 1.0, 0.0), Plane.OBLIQUE),  # 15 degrees off
    ((0.7071, 0.7071, 0, 0, 0, -1), Plane.OBLIQUE),
    ((0, 0.9848, 0.1736, 0, -0.1736, 0.9848), Plane.SAGITTAL),  # 10 degrees off sagittal
    ((0, 0, 0, 0, 0, 0), None),
])
def test_plane(iop, expected):
    assert classify.plane_of(iop) is expected


def test_scan_fills_classification(writer, tmp_path):
    writer.stack(3, modality="MR", iop=(0, 1, 0, 0, 0, -1), SeriesDescription="SAG STIR", folder="mr")
    save(radiograph_dataset(description="L-SPINE LT OBL", imager_spacing=(0.15, 0.15), ermf=1.15,
                            SeriesInstanceUID="1.2.3.4.5"), tmp_path / "dx" / "a.dcm")
    entries = {s.modality.value: s for s in scan_paths([tmp_path]).all_series()}
    assert entries["MR"].sequence is MRSequence.STIR and entries["MR"].plane is Plane.SAGITTAL
    assert entries["MR"].kind == "volume"
    assert entries["DX"].view is RadiographView.LEFT_OBLIQUE and entries["DX"].kind == "radiograph"
    vol = load_series(entries["MR"])
    assert vol.sequence is MRSequence.STIR and vol.plane is Plane.SAGITTAL and vol.units == ""
