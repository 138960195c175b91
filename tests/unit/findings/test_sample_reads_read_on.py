"""The six sample reference reads say what each pars entry was read on and which imaging exists."""

import pytest

from app.core.paths import sample_dicom_dir
from app.findings.io import load_findings
from app.findings.model import CTStageBasis, ImagingModality
from app.samples.cases import SAMPLE_CASES
from app.samples.generate import READ_NAME, reference_read


@pytest.mark.parametrize("case", SAMPLE_CASES, ids=lambda c: c.slug)
def test_reference_read_pars_entries_record_their_modalities(case):
    read = reference_read(case)
    has_ct = "CT" in case.modalities
    assert read.imaging.radiographs is True and read.imaging.ct is has_ct and read.imaging.mri is ("MR" in case.modalities)
    assert read.imaging.flexion_extension is None  # no story mentions them: unknown, not "no"
    assert read.context.sex.value == case.sex and read.context.from_dicom == frozenset()
    for p in read.pars:
        assert ImagingModality.RADIOGRAPH in p.read_on and p.cross_sectional_confirmation is True
        assert (ImagingModality.CT in p.read_on) is has_ct
        if p.ct_stage is not None:
            assert p.ct_stage_basis is (CTStageBasis.CT if has_ct else CTStageBasis.MRI_CROSSWALK)


@pytest.mark.parametrize("case", SAMPLE_CASES, ids=lambda c: c.slug)
def test_committed_reference_read_is_the_generated_one(case):
    path = sample_dicom_dir() / case.slug / READ_NAME
    if not path.is_file():
        pytest.skip("sample_dicom/ not generated")
    assert load_findings(path) == reference_read(case)
