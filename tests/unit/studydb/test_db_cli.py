"""`isthmus db import|list|remove|reindex` with --db, run through the real CLI entry point."""

from __future__ import annotations

import json

from app.cli import main

from .studydb_factory import write_study


def test_cli_import_list_remove_reindex(tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    uid, files = write_study(tmp_path / "a", n=2, PatientName="Cli^Carla", StudyDescription="L-spine MR")
    assert main(["db", "--db", db, "import", str(tmp_path / "a")]) == 0
    assert "1 study; 2 instances indexed" in capsys.readouterr().out
    assert main(["db", "list", "carla", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "Cli Carla" in out and "2026-01-05" in out and uid in out
    assert main(["db", "list", "--db", db, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["study_uid"] == uid and row["n_instances"] == 2 and row["modalities"] == ["CT"]
    assert main(["db", "list", "nobody", "--db", db]) == 1
    assert "no studies found" in capsys.readouterr().out
    files[0].unlink()
    assert main(["db", "reindex", "--db", db]) == 0
    assert "1 vanished file dropped" in capsys.readouterr().out
    assert main(["db", "remove", uid, "--delete-files", "--db", db]) == 0
    assert "0 managed file(s) deleted" in capsys.readouterr().out and files[1].is_file()
    assert main(["db", "remove", uid, "--db", db]) == 1
    assert f"study {uid} is not in the study database" in capsys.readouterr().err


def test_cli_copy_and_source(tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite")
    write_study(tmp_path / "a", n=1)
    assert main(["db", "import", "--copy", "--source", "pacs:PACS1", str(tmp_path / "a"), "--db", db]) == 0
    assert "1 copied into the managed storage" in capsys.readouterr().out
    assert main(["db", "list", "--json", "--db", db]) == 0
    assert json.loads(capsys.readouterr().out)[0]["source"] == "pacs:PACS1"


def test_cli_tells_the_recovery_once(tmp_path, capsys):
    db = tmp_path / "cli.sqlite"
    db.write_bytes(b"not a database" * 200)
    assert main(["db", "list", "--db", str(db)]) == 1
    err = capsys.readouterr().err
    assert "could not be used" in err and "moved aside" in err and err.count("\n") == 1
