"""Import (link, copy, DICOMDIR, non-image objects, Isthmus SRs) and search of the study database."""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from pydicom import dcmread
from pydicom.fileset import FileSet

from app.findings import model as m
from app.findings.sr_export import export_sr
from app.studydb.database import StudyDatabase
from app.studydb.rows import StudyDbError
from app.studydb.schema import SCHEMA_VERSION
from app.studydb.sidecar import ImportRoots

from .studydb_factory import write_study


def test_link_import_indexes_patient_study_series_and_files(db, tmp_path):
    uid, files = write_study(tmp_path / "a", n=3, series=2)
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    report = db.import_paths([tmp_path / "a"])
    assert report.study_uids == [uid] and report.instances == 6
    assert [(s.path.name, s.category) for s in report.skipped] == [("notes.txt", "not-dicom")]
    [row] = db.search()
    assert (row.patient_name, row.patient_id, row.birth_date, row.sex) == ("Doe^Jane", "PID-1", "19700101", "F")
    assert (row.study_date, row.description, row.accession) == ("20260105", "Lumbar spine", "ACC1")
    assert (row.modalities, row.n_series, row.n_instances, row.source, row.isthmus_sr_count) == (("CT",), 2, 6, "folder", 0)
    assert db.study_files(uid) == files  # by series number, then instance number; originals in place
    assert db.schema_version == SCHEMA_VERSION


def test_importing_twice_does_not_duplicate(db, tmp_path):
    uid, _ = write_study(tmp_path / "a", n=2)
    db.import_paths([tmp_path / "a"])
    db.import_paths([tmp_path / "a", tmp_path / "a" / "s1_001.dcm"])
    [row] = db.search()
    assert row.n_instances == 2 and len(db.study_files(uid)) == 2


def test_search_is_case_insensitive_over_name_id_description_accession(db, tmp_path):
    write_study(tmp_path / "a", n=1, PatientName="Müller^Hans", PatientID="AB-77", StudyDescription="MR L-Spine",
                AccessionNumber="X123")
    uid_b, _ = write_study(tmp_path / "b", n=1, modality="MR", PatientName="Smith^Ann", PatientID="Q1",
                           StudyDescription="Pelvis", AccessionNumber="Z9", StudyDate="20250101")
    db.import_paths([tmp_path / "a", tmp_path / "b"])

    def names(**kw):
        return [r.patient_name for r in db.search(**kw)]
    assert names(text="MÜLLER") == ["Müller^Hans"]
    assert names(text="hans müller") == ["Müller^Hans"]  # every word, any order
    assert names(text="ab-77") == names(text="l-SPINE") == names(text="x12") == ["Müller^Hans"]
    assert names(text="smith pelvis") == ["Smith^Ann"]
    assert names(text="smith spine") == []
    assert names(text="50%") == []  # LIKE wildcards in the text are literal
    assert names(text=uid_b) == ["Smith^Ann"]
    assert names(modality="mr") == ["Smith^Ann"]
    assert names(date_from=date(2026, 1, 1)) == ["Müller^Hans"]
    assert names(date_to=date(2025, 12, 31)) == ["Smith^Ann"]
    assert names() == ["Müller^Hans", "Smith^Ann"]  # newest study first
    assert len(db.search(limit=1)) == 1


def test_copy_import_puts_atomic_copies_in_the_managed_storage(db, tmp_path):
    uid, files = write_study(tmp_path / "a", n=2)
    report = db.import_paths([tmp_path / "a"], mode="copy")
    assert report.copied == 2
    copies = db.study_files(uid)
    assert all(db.storage_dir in p.parents for p in copies)
    assert sorted(p.read_bytes() for p in copies) == sorted(p.read_bytes() for p in files)
    assert not list(db.storage_dir.rglob("*.tmp"))
    shutil.rmtree(tmp_path / "a")  # the copies do not need the originals
    assert db.search()[0].n_instances == 2 and all(p.is_file() for p in db.study_files(uid))


def test_dicomdir_media_are_followed_and_marked(db, tmp_path):
    uid, files = write_study(tmp_path / "src", n=3, StudyID="1")
    fs = FileSet()
    for f in files:
        fs.add(f)
    fs.write(tmp_path / "media")
    report = db.import_paths([tmp_path / "media" / "DICOMDIR"])
    assert report.study_uids == [uid]
    [row] = db.search()
    assert row.source == "dicomdir" and row.n_instances == 3
    assert all((tmp_path / "media") in p.parents for p in db.study_files(uid))
    assert ImportRoots.load(db.roots_path).roots == {str(tmp_path / "media" / "DICOMDIR"): "dicomdir"}
    db.reindex()
    assert [(r.n_instances, r.source) for r in db.search()] == [(3, "dicomdir")]
    (tmp_path / "empty").mkdir()
    db.import_paths([tmp_path / "empty"])
    assert str(tmp_path / "empty") not in ImportRoots.load(db.roots_path).roots  # nothing found there


def test_isthmus_findings_sr_is_counted_and_foreign_sr_is_not(db, tmp_path):
    uid, _ = write_study(tmp_path / "a", n=2)
    ours = export_sr(m.StudyFindings(study_instance_uid=uid), tmp_path / "a" / "findings_sr.dcm", study=tmp_path / "a")
    foreign = dcmread(ours)
    foreign.Manufacturer = "Other Vendor"
    del foreign.CodingSchemeIdentificationSequence
    foreign.SOPInstanceUID = foreign.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4.5.6.7"
    foreign.SeriesInstanceUID = "1.2.3.4.5.6.8"
    foreign.save_as(tmp_path / "a" / "foreign_sr.dcm")
    db.import_paths([tmp_path / "a"], source="pacs:PACS1")
    [row] = db.search()
    assert row.isthmus_sr_count == 1 and row.source == "pacs:PACS1"
    assert row.modalities == ("CT", "SR") and row.n_instances == 4 and row.n_series == 3
    assert db.isthmus_sr_files(uid) == [ours]
    assert {p.name for p in db.study_files(uid)} >= {"findings_sr.dcm", "foreign_sr.dcm"}


def test_unknown_study_and_bad_mode_are_typed_errors(db, tmp_path):
    with pytest.raises(StudyDbError, match=r"1\.2\.999 is not in the study database"):
        db.study_files("1.2.999")
    with pytest.raises(StudyDbError, match=r"1\.2\.999"):
        db.remove_study("1.2.999")
    with pytest.raises(StudyDbError, match="'move'"):
        db.import_paths([tmp_path], mode="move")  # type: ignore[arg-type]


def test_missing_path_is_reported_not_raised(db, tmp_path):
    report = db.import_paths([tmp_path / "nowhere"])
    assert report.study_uids == [] and report.skipped[0].reason == "does not exist"


def test_open_default_lives_in_the_user_data_folder(tmp_path, monkeypatch):
    from app.studydb.database import open_default

    monkeypatch.setenv("ISTHMUS_DATA_DIR", str(tmp_path / "ud"))
    with open_default() as database:
        assert database.path == tmp_path / "ud" / "studies.sqlite"
        assert database.storage_dir == tmp_path / "ud" / "storage"
    assert StudyDatabase(tmp_path / "ud" / "studies.sqlite").schema_version == SCHEMA_VERSION


def test_index_scan_reuses_the_viewers_scan_and_records_the_root(db, tmp_path):
    from app.dicom.scan import scan_paths
    from app.studydb.sidecar import ImportRoots

    uid, files = write_study(tmp_path / "opened", n=2)
    report = db.index_scan(scan_paths([tmp_path / "opened"]), [tmp_path / "opened"])
    assert report.study_uids == [uid] and db.study_files(uid) == files
    assert ImportRoots.load(db.roots_path).roots == {str(tmp_path / "opened"): "folder"}
    db.index_scan(scan_paths(files), [str(f) for f in files])  # re-opened from the list: no new roots
    assert list(ImportRoots.load(db.roots_path).roots) == [str(tmp_path / "opened")]
