"""A large single-frame JPEG 2000 image is decoded in the decoder process (the in-process
decoders hold the GIL ~100-190 ms per radiograph and the GUI thread stalls meanwhile), with the
same pixels as the in-process decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.dicom import isolated
from app.dicom.pixels import decode_pixels, read_full

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_DX = sorted((ROOT / "sample_dicom").glob("case04_*/DX_RT_OBL/*.dcm"))


@pytest.mark.skipif(not SAMPLE_DX, reason="sample_dicom not present")
def test_large_jpeg2000_radiograph_decodes_in_the_decoder_process_with_the_same_pixels(monkeypatch):
    path = SAMPLE_DX[0]
    ds = read_full(path)
    assert int(ds.Rows) * int(ds.Columns) >= 1_000_000
    calls = []
    real = isolated.decode_isolated

    def spy(p, method, cancel=None, **kw):
        calls.append(method)
        return real(p, method, cancel, **kw)

    monkeypatch.setattr("app.dicom.decode.decode_isolated", spy)
    away = decode_pixels(path, ds)
    assert calls == ["plugins"]
    monkeypatch.setenv("ISTHMUS_DECODE_IN_PROCESS", "1")
    here = decode_pixels(path, read_full(path))
    assert calls == ["plugins"]  # not asked again
    assert away.dtype == here.dtype and away.shape == here.shape == (int(ds.Rows), int(ds.Columns))
    assert np.array_equal(away, here)


@pytest.mark.skipif(not SAMPLE_DX, reason="sample_dicom not present")
def test_a_failure_in_the_decoder_process_falls_back_to_decoding_here(monkeypatch):
    path = SAMPLE_DX[0]

    def broken(p, method, cancel=None, **kw):
        raise isolated.IsolatedFailure("the decoder process crashed (SIGSEGV)")

    monkeypatch.setattr("app.dicom.decode.decode_isolated", broken)
    arr = decode_pixels(path, read_full(path))
    assert arr.shape == (int(read_full(path).Rows), int(read_full(path).Columns)) and arr.any()


@pytest.mark.skipif(not SAMPLE_DX, reason="sample_dicom not present")
def test_the_cli_flag_a_frozen_build_uses_serves_the_decoder_protocol(tmp_path):
    """A frozen build starts its own executable with --decode-worker (isolated.worker_command);
    here the same entry point (app.cli) is run from source and must answer a request."""
    import json
    import subprocess
    import sys

    out = tmp_path / "a.npy"
    request = json.dumps({"path": str(SAMPLE_DX[0]), "method": "plugins", "out": str(out)}) + "\n"
    done = subprocess.run([sys.executable, "-m", "app", "--decode-worker"], input=request, capture_output=True,
                          text=True, cwd=str(ROOT), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"ok": True}
    assert np.array_equal(np.load(out), decode_pixels(SAMPLE_DX[0], read_full(SAMPLE_DX[0])))
