"""Issue 11 item 9: directory files (DICOMDIR, Philips DIRFILE) resolve referenced file IDs against
the file-set root, do not count files twice, and refuse references that leave the scanned folder."""

import shutil
from pathlib import Path

from pydicom import dcmread
from pydicom.fileset import FileSet

from app.dicom import scan_paths

from .conftest import save


def _media(writer, root: Path, n: int = 3) -> Path:
    paths, _, _ = writer.stack(n, folder="src", StudyTime="120000", StudyID="1", SeriesNumber=1)
    fs = FileSet()
    for p in paths:
        fs.add(p)
    media = root / "media"
    fs.write(media)
    shutil.rmtree(paths[0].parent)
    return media


def test_directory_file_in_a_subfolder_resolves_against_the_file_set_root(writer, tmp_path):
    media = _media(writer, tmp_path)
    (media / "DICOM").mkdir()
    (media / "DICOMDIR").rename(media / "DICOM" / "DIRFILE")  # Philips layout: index below the root
    res = scan_paths([media])
    assert res.files_seen == 4  # three images and the index, each once
    [entry] = res.all_series()
    assert len(entry.instances) == 3
    assert [s.category for s in res.skipped] == ["non-image"]
    assert "3 referenced files scanned" in res.skipped[0].reason
    assert str(media) in res.skipped[0].reason  # says which folder the IDs are relative to


def test_directory_file_alone_still_finds_its_files_once(writer, tmp_path):
    media = _media(writer, tmp_path)
    res = scan_paths([media / "DICOMDIR", media])
    assert res.files_seen == 4 and len(res.all_series()[0].instances) == 3
    assert not [s for s in res.skipped if s.category in ("error", "duplicate")]


def test_reference_leaving_the_media_folder_is_refused_not_followed(writer, tmp_path):
    media = _media(writer, tmp_path)
    outside, _, _ = writer.stack(1, folder="secret", SeriesDescription="OUTSIDE", PatientID="OTHER")
    ds = dcmread(media / "DICOMDIR")
    images = [r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r]
    images[0].ReferencedFileID = ["..", "secret", outside[0].name]
    images[1].ReferencedFileID = "/" + str(outside[0]).lstrip("/").replace("/", "\\")
    save(ds, media / "DICOMDIR")
    res = scan_paths([media / "DICOMDIR"])
    assert all("OUTSIDE" not in s.description for s in res.all_series())
    refused = [s for s in res.skipped if "refused" in s.reason]
    assert len(refused) == 2 and all(s.category == "error" and s.path.name == "DICOMDIR" for s in refused)
    assert any("'..'" in s.reason for s in refused)
    assert sum(len(s.instances) for s in res.all_series()) == 1


def test_missing_references_are_one_line_not_one_error_per_file(writer, tmp_path):
    media = _media(writer, tmp_path, n=4)
    for p in sorted(media.rglob("*"))[::-1]:
        if p.is_file() and p.name != "DICOMDIR":
            p.unlink()
            break
    res = scan_paths([media / "DICOMDIR"])
    errors = [s for s in res.skipped if s.category == "error"]
    assert len(errors) == 1 and "1 of 4 files listed in this directory are missing" in errors[0].reason
    assert len(res.all_series()[0].instances) == 3


def test_reference_through_a_symlink_leaving_the_media_is_refused(writer, tmp_path):
    media = _media(writer, tmp_path)
    outside, _, _ = writer.stack(1, folder="elsewhere", SeriesDescription="OUTSIDE", PatientID="OTHER")
    (media / "LINK").symlink_to(outside[0].parent, target_is_directory=True)
    ds = dcmread(media / "DICOMDIR")
    images = [r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r]
    images[0].ReferencedFileID = ["LINK", outside[0].name]
    save(ds, media / "DICOMDIR")
    res = scan_paths([media / "DICOMDIR"])
    assert all("OUTSIDE" not in s.description for s in res.all_series())
    [refused] = [s for s in res.skipped if "refused" in s.reason]
    assert "outside the scanned folder" in refused.reason
