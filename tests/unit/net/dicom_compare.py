"""What 'byte-identical' means in the network tests.

A retrieved file's File Meta Information (group 0002) is written by the receiver (pynetdicom's
implementation UID and version name), so it differs from the original's. What must be the
same is the transfer syntax, the SOP class and instance in the meta, and every byte of the
data set after the meta (pixel data included).
"""

from __future__ import annotations

import struct
from pathlib import Path

import pydicom


def dataset_bytes(path: Path) -> bytes:
    """The encoded data set after the preamble, 'DICM' and the File Meta group."""
    data = path.read_bytes()
    assert data[128:132] == b"DICM", f"{path}: no DICM prefix"
    tag_group, tag_elem = struct.unpack("<HH", data[132:136])
    assert (tag_group, tag_elem) == (0x0002, 0x0000), f"{path}: meta does not start with its group length"
    (meta_len,) = struct.unpack("<I", data[140:144])
    return data[144 + meta_len:]


def meta_keys(path: Path) -> tuple[str, str, str]:
    meta = pydicom.dcmread(path, stop_before_pixels=True).file_meta
    return str(meta.TransferSyntaxUID), str(meta.MediaStorageSOPClassUID), str(meta.MediaStorageSOPInstanceUID)


def originals_by_sop_uid(files: list[Path]) -> dict[str, Path]:
    return {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in files}
