"""Issue 11 (fuzz list): crafted or byte-damaged SRs and deeply nested findings JSON raise only our
typed errors (SRImportError / FindingsFileError); the CLI prints one line and exits non-zero."""

from __future__ import annotations

import random
import struct
import subprocess
import sys

import pytest
from findings_factories import rich_findings
from synthetic_study import write_ct_study

from app.findings.io import FindingsFileError, load_findings
from app.findings.sr import export_sr
from app.findings.sr_import import SRImportError, load_findings_from_sr

N_MUTANTS = 60  # bounded: a few seconds


@pytest.fixture(scope="module")
def good_sr(tmp_path_factory):
    d = tmp_path_factory.mktemp("srsrc")
    write_ct_study(d / "ct")
    out = d / "findings-sr.dcm"
    export_sr(rich_findings(), out, study=d)
    return out


def test_byte_damaged_srs_raise_only_sr_import_error(good_sr, tmp_path):
    data = good_sr.read_bytes()
    rng = random.Random(20261129)
    untyped = []
    for i in range(N_MUTANTS):
        b = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(132, len(b))] = rng.randrange(256)
        if rng.random() < 0.2:
            b = b[:rng.randrange(132, len(b))]
        p = tmp_path / f"m{i}.dcm"
        p.write_bytes(bytes(b))
        try:
            load_findings_from_sr(p)
        except SRImportError as exc:
            assert str(p) in str(exc)
        except Exception as exc:
            untyped.append(f"{p.name}: {type(exc).__name__}: {exc}")
    assert untyped == []


def _nest_content(sr_path, depth, out):
    """Replace the document's first ContentSequence by one nested ``depth`` levels (undefined
    lengths): a crafted SR that makes a recursive reader run out of stack."""
    data = sr_path.read_bytes()
    tag = struct.pack("<HH", 0x0040, 0xA730)
    at = data.index(tag + b"SQ")
    length = struct.unpack_from("<I", data, at + 8)[0]
    open_level = tag + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close_level = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    end = at + 12 + length if length != 0xFFFFFFFF else len(data)
    out.write_bytes(data[:at] + open_level * depth + close_level * depth + data[end:])
    return out


def test_crafted_deeply_nested_sr_is_a_typed_error(good_sr, tmp_path):
    crafted = _nest_content(good_sr, 5000, tmp_path / "deep-sr.dcm")
    with pytest.raises(SRImportError):
        load_findings_from_sr(crafted)


def test_sr_import_cli_prints_one_line_without_traceback(good_sr, tmp_path):
    crafted = _nest_content(good_sr, 5000, tmp_path / "deep-sr.dcm")
    out = subprocess.run([sys.executable, "-m", "app", "sr", "import", str(crafted)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and str(crafted) in lines[0]


@pytest.mark.parametrize("depth", [5000, 100000])
def test_deeply_nested_findings_json_is_a_typed_error(tmp_path, depth):
    p = tmp_path / "deep.json"
    p.write_text('{"format": "isthmus-findings", "schema_version": 1, "context": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(FindingsFileError, match="nested too deeply"):
        load_findings(p)
    out = subprocess.run([sys.executable, "-m", "app", "findings", "validate", str(p)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    assert out.stdout.startswith(f"INVALID {p}") and "nested too deeply" in out.stdout
