"""`isthmus pacs` through app.cli.main against a real Orthanc: echo, find, retrieve, send, nodes; exit codes."""

from __future__ import annotations

import getpass
import json
import socket

import pytest
from conftest import USERS, case04_files, study_uid_of
from orthanc_server import ORTHANC_AET, free_port

from app.cli import main
from app.net.nodes import NodeStore, WebNode


def _addr(server) -> str:
    return f"dicom://{ORTHANC_AET}@127.0.0.1:{server.dicom_port}"


def test_echo_ok_and_errors(orthanc, capsys):
    assert main(["pacs", "echo", _addr(orthanc)]) == 0
    assert "ok (" in capsys.readouterr().out
    assert main(["pacs", "echo", f"dicom://WRONG@127.0.0.1:{orthanc.dicom_port}"]) == 1
    assert "called AE title 'WRONG' not recognised" in capsys.readouterr().err
    assert main(["pacs", "echo", f"dicom://X@127.0.0.1:{free_port()}"]) == 1
    assert "connection refused" in capsys.readouterr().err


def test_find_json_and_filters(orthanc, case04, capsys):
    uid = study_uid_of(case04)
    assert main(["pacs", "find", _addr(orthanc), "--patient-id", "ISTHMUS-SAMPLE-04", "--modality", "CT",
                 "--date", "20240301-20240331", "--accession", "ISTH04", "--json"]) == 0
    studies = json.loads(capsys.readouterr().out)
    assert [s["study_uid"] for s in studies] == [uid] and studies[0]["n_instances"] == len(case04)
    assert main(["pacs", "find", _addr(orthanc), "--patient-name", "NOBODY*", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.parametrize("argv", [
    ["pacs", "find", "dicom://A@127.0.0.1:104", "--date", "2024-03-01"],
    ["pacs", "find", "dicom://A@127.0.0.1:104", "--date", "20240331-20240301"],
    ["pacs", "echo", "not-a-configured-node"],
    ["pacs", "echo", "dicom://no-aet-here:104"],
    ["pacs", "send", "dicom://A@127.0.0.1:104", "/no/such/file.dcm"],
])
def test_usage_errors_exit_2(argv, capsys):
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("isthmus pacs: ")


def test_argparse_usage_errors_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["pacs", "retrieve", "dicom://A@h:104", "1.2.3", "--via", "ftp"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_send_then_retrieve_by_get_move_and_wado(fresh_orthanc, tmp_path, capsys):
    files = case04_files()
    series_dir = files[0].parent
    n = len(list(series_dir.glob("*.dcm")))
    assert main(["pacs", "send", _addr(fresh_orthanc), str(series_dir)]) == 0
    assert f"sent {n} file(s)" in capsys.readouterr().out
    uid = study_uid_of(files)
    move_node = f"{_addr(fresh_orthanc)}"
    assert main(["pacs", "retrieve", move_node, uid, "--via", "get", "--out", str(tmp_path / "get")]) == 0
    assert len(list((tmp_path / "get" / uid).rglob("*.dcm"))) == n
    # C-MOVE needs our storage SCP on the port Orthanc knows: a configured node carries it
    assert main(["pacs", "nodes", "add", "PACS1", _addr(fresh_orthanc), "--retrieve-port",
                 str(fresh_orthanc.move_scp_port)]) == 0
    assert main(["pacs", "retrieve", "PACS1", uid, "--via", "move", "--out", str(tmp_path / "move")]) == 0
    assert len(list((tmp_path / "move" / uid).rglob("*.dcm"))) == n
    capsys.readouterr()


def test_nodes_add_list_remove_asks_the_secret_and_keeps_it_out_of_the_file(orthanc, case04, monkeypatch, capsys,
                                                                            no_keyring):
    user, password = next(iter(USERS.items()))
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": password)
    assert main(["pacs", "nodes", "add", "WEBCLI", f"dicomweb+http://127.0.0.1:{orthanc.http_port}/dicom-web",
                 "--auth", "basic", "--user", user]) == 0
    assert "kept for this run only" in capsys.readouterr().out
    store = NodeStore()
    assert store.get("WEBCLI") == WebNode(name="WEBCLI", url=orthanc.dicomweb_url, auth="basic", username=user)
    assert password not in store.path.read_text()
    assert main(["pacs", "nodes", "list"]) == 0
    assert "WEBCLI" in capsys.readouterr().out
    assert main(["pacs", "find", "WEBCLI", "--patient-id", "ISTHMUS-SAMPLE-04", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["pacs", "nodes", "remove", "WEBCLI"]) == 0
    assert main(["pacs", "nodes", "remove", "WEBCLI"]) == 2


def test_retrieve_of_an_unknown_study_fails_with_exit_1(orthanc, tmp_path, capsys):
    assert main(["pacs", "retrieve", _addr(orthanc), "1.2.3.4.5.6", "--out", str(tmp_path)]) == 1
    assert "incomplete: ORTHANC@127.0.0.1" in (err := capsys.readouterr().err) and "has no study 1.2.3.4.5.6" in err


def test_aet_and_timeout_options_reach_the_association(orthanc, capsys):
    assert main(["pacs", "find", _addr(orthanc), "--aet", "STRANGER", "--timeout", "7"]) == 1
    assert "does not allow AE title 'STRANGER'" in capsys.readouterr().err
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        assert main(["pacs", "echo", f"dicom://X@127.0.0.1:{silent.getsockname()[1]}", "--timeout", "1"]) == 1
    assert "did not answer the association request within 1 s (timeout)" in capsys.readouterr().err
