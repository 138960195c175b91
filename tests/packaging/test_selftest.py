"""The self-test from source (fast part): it passes on a bundled sample case and the decoder
files, and it reports FAIL rows and a non-zero exit status when something is broken."""

from __future__ import annotations

import shutil

import pytest

from app.cli import main
from app.core.paths import sample_dicom_dir
from app.selftest import CheckResult, exit_status, format_summary, run_self_test
from app.selftest_decoders import DECODE_CASES, DecodeCase, check_decoder

CASE01 = sample_dicom_dir() / "case01_normal_adolescent"
needs_samples = pytest.mark.skipif(not CASE01.is_dir(), reason="sample_dicom/ not generated (isthmus samples)")


@needs_samples
def test_sample_case_passes_every_step():
    results = run_self_test(sample_dicom_dir(), cases=["case01"], decoders=False)
    failed = [r for r in results if not r.ok]
    assert not failed, failed
    steps = [r.step for r in results]
    n_series = len([p for p in CASE01.iterdir() if p.is_dir()])
    assert steps.count("scan") == 1 and steps.count("load") == n_series
    assert steps.count("pathway") == 1 and steps.count("sr") == 1
    assert exit_status(results) == 0


def test_every_decoder_plugin_decodes_its_test_file():
    results = [r for case in DECODE_CASES for r in check_decoder(case)]
    assert results and all(r.ok for r in results), [r for r in results if not r.ok]
    subjects = {r.subject for r in results}
    assert {"JPEG 2000 lossless (gdcm)", "JPEG-LS lossless (pylibjpeg)", "RLE Lossless (pydicom)"} <= subjects


def test_decoder_check_fails_on_a_wrong_reference_and_a_missing_plugin():
    lossy_as_lossless = DecodeCase("JPEG Baseline", "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_rle.dcm", 0, ("pylibjpeg",))
    (row,) = check_decoder(lossy_as_lossless)
    assert not row.ok and "differs from SC_rgb_rle.dcm by up to" in row.detail
    (row,) = check_decoder(DecodeCase("RLE", "MR_small_RLE.dcm", "MR_small.dcm", 0, ("no-such-plugin",)))
    assert not row.ok and "no-such-plugin" in row.detail
    (row,) = check_decoder(DecodeCase("RLE", "not_a_pydicom_file.dcm", None, 0, ()))
    assert not row.ok and "not_a_pydicom_file.dcm is not bundled" in row.detail


@needs_samples
def test_a_corrupt_file_and_a_missing_read_are_failures(tmp_path):
    case = tmp_path / "case01_broken"
    shutil.copytree(CASE01, case)
    dx = next((case / "DX_AP").glob("*.dcm"))
    data = dx.read_bytes()
    dx.write_bytes(data[: len(data) - 4000])  # the JPEG 2000 code stream is cut short
    (case / "reference_read.json").unlink()
    results = run_self_test(tmp_path, decoders=False)
    failed = {(r.step, r.subject.split()[0]) for r in results if not r.ok}
    assert ("load", "case01_broken") in failed or ("scan", "case01_broken") in failed
    assert ("pathway", "case01_broken") in failed
    assert exit_status(results) == 1
    assert format_summary(results, 1.0).startswith("SELF-TEST FAILED")


def test_no_checks_is_not_a_pass(tmp_path):
    results = run_self_test(tmp_path, decoders=False)
    assert [(r.step, r.ok) for r in results] == [("scan", False), ("about", True)]
    assert "no sample case folders" in results[0].detail
    assert exit_status([]) == 1
    assert exit_status([CheckResult("scan", "x", True, "", 0.0)]) == 0


def test_cli_flag_exits_non_zero_and_says_why(tmp_path, capsys):
    assert main(["--self-test", "--samples", str(tmp_path), "--no-render", "--no-decoders"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  scan" in out and "SELF-TEST FAILED: 1 passed, 1 failed" in out


@needs_samples
@pytest.mark.gui
def test_cli_self_test_renders_through_the_viewer(qapp, tmp_path, capsys, monkeypatch):
    user_data = tmp_path / "user"
    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(user_data))
    report = tmp_path / "selftest.json"
    assert main(["self-test", "--case", "case01", "--no-decoders", "--json", str(report)]) == 0
    assert not user_data.exists()  # the user's settings and recent studies are left alone
    out = capsys.readouterr().out
    assert "PASS  window" in out and "SELF-TEST PASSED" in out
    import json

    rows = json.loads(report.read_text())["results"]
    renders = [r for r in rows if r["step"] == "render"]
    assert len(renders) == len([p for p in CASE01.iterdir() if p.is_dir()])
    assert all(r["ok"] and "% of the viewport lit" in r["detail"] for r in renders)
    cells = {r["subject"].split()[-1] for r in rows if r["step"] == "protocol" and r["ok"]}
    assert cells == {"xr_right_oblique", "xr_left_oblique", "mr_sag_stir"}  # case 1 has no CT


@pytest.mark.gui
def test_renderer_refuses_a_blank_image(qapp):
    import numpy as np

    from app.selftest import SelfTestError
    from app.ui.selftest_render import OffscreenRenderer
    from app.viewer.display import PreviewDisplay

    renderer = OffscreenRenderer()
    try:
        with pytest.raises(SelfTestError, match="blank"):
            renderer(PreviewDisplay(np.zeros((64, 48), np.uint16), "DX"))
        ramp = np.tile(np.arange(48, dtype=np.uint16) * 80, (64, 1))
        assert "frame 48x64" in renderer(PreviewDisplay(ramp, "DX"))
    finally:
        renderer.close()


def test_a_frozen_build_without_build_info_fails_the_about_check(monkeypatch, tmp_path):
    import sys

    from app.core.paths import resources_dir
    from app.selftest import SelfTestError, check_about

    assert "components with licences" in check_about()  # from source: no build date needed
    shutil.copytree(resources_dir(), tmp_path / "res", ignore=shutil.ignore_patterns("build_info.json"))
    monkeypatch.setenv("ISTHMUS_RESOURCES", str(tmp_path / "res"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(SelfTestError, match="no build date"):
        check_about()
