"""A small, fast reader for the header of the common DICOM files (pure Python, no pydicom).

Handles Explicit and Implicit VR Little Endian datasets (with or without preamble and file
meta, and the dataset part of compressed syntaxes, which is explicit little endian). It keeps
only the attributes Isthmus needs and stops at the pixel data, recording where it starts so the
loader can read pixels straight from the file. Whenever something is unusual (big endian,
deflate, a needed sequence, a non-Latin character set, anything it cannot parse) it returns
None and the caller uses pydicom instead, so correctness never depends on this shortcut.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterable
from itertools import accumulate
from pathlib import Path
from typing import Any

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
_SHORT_VRS = frozenset(v.encode() for v in ("AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
                                              "PN", "SH", "SL", "SS", "ST", "TM", "UI", "UL", "US"))
_VR_NAMES = {v: v.decode() for v in _SHORT_VRS | _LONG_VRS}
_TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM", "UI", "UC", "UR", "UT"}
_SINGLE_TEXT = {"LT", "ST", "UT", "UR"}
_NUM = {"US": ("H", 2), "SS": ("h", 2), "UL": ("I", 4), "SL": ("i", 4), "FL": ("f", 4), "FD": ("d", 8)}
_OK_CHARSETS = {"", "ISO_IR 6", "ISO_IR 100", "ISO_IR 192", "ISO 2022 IR 6"}
_PIXEL = 0x7FE00010
_EXPL = struct.Struct("<HH2sH")
_IMPL = struct.Struct("<HHI")
_U32 = struct.Struct("<I")
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_FALLBACK_SEQUENCES = {"ViewCodeSequence", "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence",
                       "DirectoryRecordSequence", "VOILUTSequence", "ModalityLUTSequence", "DimensionIndexSequence"}
_MAX_SEQUENCE_BUFFER = 32 << 20  # longer skipped sequences are left to pydicom (linear, not re-parsed)
MAX_SEQUENCE_DEPTH = 64  # deepest sequence nesting read; DICOM objects in practice stay below 10
_NATIVE_TS = {"1.2.840.10008.1.2": True, "1.2.840.10008.1.2.1": False}  # uid -> implicit


# tag -> (keyword, VR) of the attributes the scan and loader keep (from the DICOM dictionary)
_KNOWN: dict[int, tuple[str, str]] = {
    0x00080005: ("SpecificCharacterSet", "CS"),
    0x00080008: ("ImageType", "CS"),
    0x00080016: ("SOPClassUID", "UI"),
    0x00080018: ("SOPInstanceUID", "UI"),
    0x00080020: ("StudyDate", "DA"),
    0x00080060: ("Modality", "CS"),
    0x00080050: ("AccessionNumber", "SH"),
    0x00081030: ("StudyDescription", "LO"),
    0x0008103E: ("SeriesDescription", "LO"),
    0x00181030: ("ProtocolName", "LO"),
    0x00181400: ("AcquisitionDeviceProcessingDescription", "LO"),
    0x00100010: ("PatientName", "PN"),
    0x00100020: ("PatientID", "LO"),
    0x00100030: ("PatientBirthDate", "DA"),
    0x00100040: ("PatientSex", "CS"),
    0x00180020: ("ScanningSequence", "CS"),
    0x00180021: ("SequenceVariant", "CS"),
    0x00180022: ("ScanOptions", "CS"),
    0x00180023: ("MRAcquisitionType", "CS"),
    0x00180024: ("SequenceName", "SH"),
    0x00180050: ("SliceThickness", "DS"),
    0x00180080: ("RepetitionTime", "DS"),
    0x00180081: ("EchoTime", "DS"),
    0x00180082: ("InversionTime", "DS"),
    0x00180086: ("EchoNumbers", "IS"),
    0x00181164: ("ImagerPixelSpacing", "DS"),
    0x00182010: ("NominalScannedPixelSpacing", "DS"),
    0x00185101: ("ViewPosition", "CS"),
    0x00540220: ("ViewCodeSequence", "SQ"),
    0x00181114: ("EstimatedRadiographicMagnificationFactor", "DS"),
    0x0020000D: ("StudyInstanceUID", "UI"),
    0x0020000E: ("SeriesInstanceUID", "UI"),
    0x00200011: ("SeriesNumber", "IS"),
    0x00200012: ("AcquisitionNumber", "IS"),
    0x00200013: ("InstanceNumber", "IS"),
    0x00200020: ("PatientOrientation", "CS"),
    0x00200032: ("ImagePositionPatient", "DS"),
    0x00200037: ("ImageOrientationPatient", "DS"),
    0x00200052: ("FrameOfReferenceUID", "UI"),
    0x00200100: ("TemporalPositionIdentifier", "IS"),
    0x00200060: ("Laterality", "CS"),
    0x00200062: ("ImageLaterality", "CS"),
    0x00280002: ("SamplesPerPixel", "US"),
    0x00280004: ("PhotometricInterpretation", "CS"),
    0x00280008: ("NumberOfFrames", "IS"),
    0x00280010: ("Rows", "US"),
    0x00280011: ("Columns", "US"),
    0x00280030: ("PixelSpacing", "DS"),
    0x00280100: ("BitsAllocated", "US"),
    0x00280103: ("PixelRepresentation", "US"),
    0x52009229: ("SharedFunctionalGroupsSequence", "SQ"),
    0x52009230: ("PerFrameFunctionalGroupsSequence", "SQ"),
    0x00041220: ("DirectoryRecordSequence", "SQ"),
    0x00209222: ("DimensionIndexSequence", "SQ"),
    0x00281053: ("RescaleSlope", "DS"),
    0x00281052: ("RescaleIntercept", "DS"),
    0x00281054: ("RescaleType", "LO"),
    0x00281050: ("WindowCenter", "DS"),
    0x00281051: ("WindowWidth", "DS"),
    0x00281056: ("VOILUTFunction", "CS"),
    0x00283010: ("VOILUTSequence", "SQ"),
    0x00283000: ("ModalityLUTSequence", "SQ"),
    0x00280101: ("BitsStored", "US"),
    0x00280102: ("HighBit", "US"),
    0x00280006: ("PlanarConfiguration", "US"),
    0x00280A02: ("PixelSpacingCalibrationType", "CS"),
    0x00204000: ("ImageComments", "LT"),
    0x7FE00010: ("PixelData", "OB or OW"),
    0x7FE00008: ("FloatPixelData", "OF"),
    0x7FE00009: ("DoubleFloatPixelData", "OD"),
    0x00180015: ("BodyPartExamined", "CS"),
    0x00180088: ("SpacingBetweenSlices", "DS"),
    0x00181120: ("GantryDetectorTilt", "DS"),
}


class _Unsupported(Exception):
    pass


class _TooDeep(_Unsupported):
    pass


class _EndsInside(_Unsupported):
    pass


class HeaderDamaged(Exception):
    """The header is damaged beyond what any reader should try (strict mode only); ``reason``
    says how in plain words."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class RawPixel:
    """Where the pixel data value starts and how long it is (like pydicom's RawDataElement)."""

    __slots__ = ("length", "value", "value_tell")

    def __init__(self, value_tell: int, length: int) -> None:
        self.value_tell, self.length, self.value = value_tell, length, None


class _Meta(dict):
    pass


# Packed values. A header keeps its attribute values as one bytes object (the values one after
# the other), an array of their offsets and a layout (keyword -> position, and the VRs) shared by
# every header whose file holds the same attributes in the same order (a series, usually). Measured
# on the 1,500-slice CT (bench/bigct_bench.py): one (VR, bytes) tuple per attribute made ~45 small
# objects per file, 8 MB of small blocks after the scan, and the allocator kept ~14 MB of its
# arenas after the study was closed (a few long-lived objects made meanwhile pin them). Packed,
# a file's values are two objects.
_Layout = tuple[dict[str, int], tuple[str, ...], tuple[Any, ...]]  # positions, VRs, decoders
_LAYOUTS: dict[tuple[tuple[str, ...], tuple[str, ...]], _Layout] = {}
_MAX_LAYOUTS = 512  # distinct attribute lists remembered (a handful per study in practice)
_FILTERED: dict[tuple[int, frozenset[str]], tuple[dict[str, int], dict[str, int]]] = {}
_EMPTY_LAYOUT: _Layout = ({}, (), ())
_MISSING = object()
_NO_OFFSETS = array("I", [0])
_META: dict[str, _Meta] = {}  # one shared (read-only) file meta per transfer syntax for parsed headers


class _NoCache(dict):
    """The decoded-value cache of a slim header: keeps nothing. Measured on the 1,500-slice CT, the
    loader's decoded values kept on every slice (2.5 MB of small objects for the life of the
    study) added one more allocator arena that stayed after the study was closed."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


_NO_CACHE = _NoCache()


def _layout(kws: list[str], vrs: list[str]) -> _Layout:
    key = (tuple(kws), tuple(vrs))
    found = _LAYOUTS.get(key)
    if found is None:
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
            _FILTERED.clear()
            _LAST_FILTERED[0] = (None, None, None)
        found = _LAYOUTS[key] = ({kw: i for i, kw in enumerate(kws)}, key[1], _decoders_for(key[1]))  # repeats: last
    return found


_DECODER_TUPLES: dict[tuple[str, ...], tuple[Any, ...]] = {}


def _decoders_for(vrs: tuple[str, ...]) -> tuple[Any, ...]:
    found = _DECODER_TUPLES.get(vrs)
    if found is None:
        if len(_DECODER_TUPLES) >= _MAX_LAYOUTS:
            _DECODER_TUPLES.clear()
        found = _DECODER_TUPLES[vrs] = tuple(_DECODERS.get(vr, _as_bytes) for vr in vrs)
    return found


# (layout, keep, filtered) of the last call, a scan's usual case; one tuple replaced whole, so a
# thread never sees one call's layout with another's result
_LAST_FILTERED: list[tuple[Any, Any, Any]] = [(None, None, None)]


def _filtered(layout: dict[str, int], keep: frozenset[str]) -> dict[str, int]:
    last = _LAST_FILTERED[0]
    if last[0] is layout and last[1] is keep:
        return last[2]
    key = (id(layout), keep)
    found = _FILTERED.get(key)
    if found is None or found[0] is not layout:
        if len(_FILTERED) >= _MAX_LAYOUTS:
            _FILTERED.clear()
            _LAST_FILTERED[0] = (None, None, None)
        found = _FILTERED[key] = (layout, {kw: i for kw, i in layout.items() if kw in keep})
    _LAST_FILTERED[0] = (layout, keep, found[1])
    return found[1]


def _meta_of(meta: dict) -> _Meta:
    ts = meta.get("TransferSyntaxUID")
    if len(meta) != 1 or not isinstance(ts, str):
        return _Meta(meta)
    shared = _META.get(ts)
    if shared is None:
        if len(_META) >= _MAX_LAYOUTS:
            _META.clear()
        shared = _META[ts] = _Meta(meta)
    return shared


class FastHeader:
    """Dataset-like (``get``, ``in``, attribute access) view of the kept attributes."""

    def __init__(self, raw: dict, meta: dict, implicit: bool, pixel: RawPixel | None) -> None:
        # raw: keyword -> (VR, value bytes), kept packed and decoded lazily by get()
        self._pack(list(raw), [v[0] for v in raw.values()], [v[1] for v in raw.values()])
        self._values: dict = {}
        self.file_meta = _Meta(meta)
        self._read_implicit = implicit
        self._read_little = True
        self.pixel_raw = pixel
        self._encoding = "latin-1"
        # (size, mtime_ns, ctime_ns, inode) of the file when it was parsed: a load reuses this header only while
        # the file is unchanged
        self.file_stat: tuple[int, int, int, int] | None = None

    def _pack(self, kws: list[str], vrs: list[str], parts: list[bytes]) -> None:
        if not kws:
            (self._layout, self._vrs, self._decoders), self._blob, self._offsets = _EMPTY_LAYOUT, b"", _NO_OFFSETS
            return
        self._layout, self._vrs, self._decoders = _layout(kws, vrs)
        self._blob = blob = b"".join(parts)
        # 4-byte offsets; 8 for values beyond 4 GB together (never seen, but a length field is not to be trusted)
        self._offsets = array("I" if len(blob) <= 0xFFFFFFFF else "Q", accumulate(map(len, parts), initial=0))

    def _raw_value(self, keyword: str) -> tuple[str, bytes] | None:
        i = self._layout.get(keyword)
        if i is None:
            return None
        offsets = self._offsets
        return self._vrs[i], self._blob[offsets[i]:offsets[i + 1]]

    def get(self, keyword: str, default: Any = None) -> Any:
        values = self._values
        value = values.get(keyword, _MISSING)
        if value is not _MISSING:
            return value
        i = self._layout.get(keyword)
        if i is None:
            return default
        offsets = self._offsets
        # decode on first use, then keep; the raw bytes stay, so two threads reading the same
        # header (preview and load) both find the value
        try:
            value = self._decoders[i](self._blob[offsets[i]:offsets[i + 1]], self._encoding)
        except (ValueError, UnicodeDecodeError, struct.error, OverflowError):  # IS "inf": OverflowError
            value = None  # an invalid value counts as absent
        values[keyword] = value
        return value

    def slim(self, keep: frozenset[str]) -> FastHeader:
        """A header with only the ``keep`` attributes (undecoded), the file meta, the pixel data
        position and the file's stat: what a later load needs. It shares the packed values."""
        out = FastHeader.__new__(FastHeader)
        out._layout, out._vrs, out._decoders = _filtered(self._layout, keep), self._vrs, self._decoders
        out._blob, out._offsets = self._blob, self._offsets
        out._values = _NO_CACHE  # decoded on each get (see _NoCache)
        out.file_meta, out._read_implicit, out._read_little = self.file_meta, self._read_implicit, self._read_little
        out.pixel_raw, out._encoding, out.file_stat = self.pixel_raw, self._encoding, self.file_stat
        return out

    def __getstate__(self) -> dict:
        """Pickled (a scan's worker process sends its headers) without the decoder functions and
        the loader's memo; they are derived again from the VRs."""
        state = dict(self.__dict__)
        state.pop("_decoders", None)
        state.pop("_memo", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self._layout, self._vrs, self._decoders = state["_layout"], state["_vrs"], _decoders_for(state["_vrs"])
        self.__dict__.update(state)

    def __contains__(self, keyword: object) -> bool:
        if keyword == "PixelData":
            return self.pixel_raw is not None
        return keyword in self._layout or keyword in self._values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self:
            return self.get(name)
        raise AttributeError(name)

    def __len__(self) -> int:
        return len(self._layout.keys() | self._values.keys())


class Wanted:
    """Tag -> (keyword, dictionary VR) for a list of keywords (built once per keyword list)."""

    def __init__(self, keywords: Iterable[str]) -> None:
        by_kw = {kw: tag for tag, (kw, _vr) in _KNOWN.items()}
        self.tags: dict[int, tuple[str, str]] = {}
        for kw in keywords:
            if kw in by_kw:
                self.tags[by_kw[kw]] = _KNOWN[by_kw[kw]]
                continue
            from pydicom.datadict import dictionary_VR, tag_for_keyword  # rare: a keyword not listed

            tag = tag_for_keyword(kw)
            if tag is not None:
                self.tags[int(tag)] = (kw, dictionary_VR(tag))
        self.max_group = 0x7FE0


def _decode_text(vr: str, raw: bytes, encoding: str) -> Any:
    """The general text decoder (any VR of _TEXT_VRS, any bytes)."""
    text = raw.decode("ascii") if raw.isascii() else raw.decode(encoding, errors="replace")
    text = text.rstrip("\x00 ")
    if vr in _SINGLE_TEXT:
        return text
    parts = [p.strip() for p in text.split("\\")] if "\\" in text else [text.strip()]
    vals: list[Any]
    if vr == "DS":
        vals = [float(p) for p in parts if p]
    elif vr == "IS":
        vals = [int(float(p)) for p in parts if p]
    else:
        vals = parts
    if not vals:
        return "" if vr not in ("DS", "IS") else None
    return vals[0] if len(vals) == 1 else vals


# Fast paths of the common values (the scan decodes ~20 values per file; profiled in
# bench/load_bench.py, the general decoder was a quarter of the scan's CPU). Each gives exactly
# what _decode_text gives or hands the value to it (float() of ASCII bytes parses like float() of
# the same text; any odd byte makes it raise, and the general decoder then decides).


def _decode_ds(raw: bytes, encoding: str) -> Any:
    text = raw.rstrip(b"\x00 ")
    if not text:
        return None
    try:
        if b"\\" not in text:
            return float(text)
        vals = [float(p) for p in text.split(b"\\") if p.strip()]
    except ValueError:
        return _decode_text("DS", raw, encoding)
    if not vals:
        return None
    return vals[0] if len(vals) == 1 else vals


def _decode_is(raw: bytes, encoding: str) -> Any:
    if len(raw) < 16 and b"\\" not in raw:  # int(float(text)) rounds beyond 2**53; int() would not
        try:
            return int(raw)
        except ValueError:
            pass
    return _decode_text("IS", raw, encoding)


def _decode_simple_text(vr: str) -> Any:
    def decode(raw: bytes, encoding: str) -> Any:
        if raw.isascii() and b"\\" not in raw:
            return raw.decode("ascii").rstrip("\x00 ").strip()
        return _decode_text(vr, raw, encoding)

    return decode


def _decode_number(code: str, size: int) -> Any:
    one = struct.Struct("<" + code).unpack

    def decode(raw: bytes, encoding: str) -> Any:
        if len(raw) == size:
            return one(raw)[0]
        n = len(raw) // size
        if n == 0:
            return None
        nums = struct.unpack(f"<{n}{code}", raw[: n * size])
        return nums[0] if n == 1 else list(nums)

    return decode


_DECODERS: dict[str, Any] = {vr: _decode_simple_text(vr) for vr in _TEXT_VRS - _SINGLE_TEXT - {"DS", "IS"}}
_DECODERS.update({vr: (lambda raw, encoding, vr=vr: _decode_text(vr, raw, encoding)) for vr in _SINGLE_TEXT})
_DECODERS.update({"DS": _decode_ds, "IS": _decode_is})
_DECODERS.update({vr: _decode_number(code, size) for vr, (code, size) in _NUM.items()})


def _as_bytes(raw: bytes, encoding: str) -> bytes:
    return raw


def _decode(vr: str, raw: bytes, encoding: str = "latin-1") -> Any:
    decoder = _DECODERS.get(vr)
    return raw if decoder is None else decoder(raw, encoding)


def _skip_undefined(buf: bytes, pos: int, implicit: bool) -> int:
    """Position after an undefined-length sequence/item list starting at ``pos``. Iterative, so a
    file with sequences nested thousands deep cannot exhaust the Python stack; nesting deeper than
    MAX_SEQUENCE_DEPTH is refused as damage (real objects stay far below it)."""
    end = len(buf)
    stack = [False]  # one entry per open level: False = inside a sequence, True = inside an item
    while pos + 8 <= end:
        group, elem = struct.unpack_from("<HH", buf, pos)
        tag = (group << 16) | elem
        if stack[-1]:  # inside an item: elements until the item delimiter
            if tag == _ITEM_END:
                pos += 8
                stack.pop()
                continue
            pos, _vr, length, undefined = _element_head(buf, pos, implicit)
            if undefined:
                stack.append(False)
                if len(stack) > 2 * MAX_SEQUENCE_DEPTH:
                    raise _TooDeep(f"damaged header: sequences nested more than {MAX_SEQUENCE_DEPTH} deep")
            else:
                pos += length
            continue
        length = struct.unpack_from("<I", buf, pos + 4)[0]
        pos += 8
        if tag == _SEQ_END:
            stack.pop()
            if not stack:
                return pos
            continue
        if tag != _ITEM:
            raise _Unsupported("unexpected tag in sequence")
        if length == 0xFFFFFFFF:
            stack.append(True)
        else:
            pos += length
    raise _Unsupported("sequence runs past the buffer")


def _element_head(buf: bytes, pos: int, implicit: bool) -> tuple[int, bytes | None, int, bool]:
    group = struct.unpack_from("<H", buf, pos)[0]
    if implicit and group != 2:
        length = struct.unpack_from("<I", buf, pos + 4)[0]
        return pos + 8, None, length, length == 0xFFFFFFFF
    vr = buf[pos + 4:pos + 6]
    if vr in _LONG_VRS:
        length = struct.unpack_from("<I", buf, pos + 8)[0]
        return pos + 12, vr, length, length == 0xFFFFFFFF
    if not (len(vr) == 2 and 65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
        raise _Unsupported("bad VR")
    return pos + 8, vr, struct.unpack_from("<H", buf, pos + 6)[0], False


def read_fast_header(path: Path, wanted: Wanted, head_bytes: int = 16384,
                     strict: bool = False) -> FastHeader | None:
    """Parse the header of ``path`` or return None when pydicom should do it. With ``strict``,
    damage no reader should try further (sequences nested too deep, the file ending inside its
    header) raises :class:`HeaderDamaged` instead of returning None."""
    from app.dicom.bounded_io import BoundedFile  # reads never exceed the file (damaged lengths)

    try:
        with BoundedFile(path) as f:
            buf = f.read(head_bytes)
            header = _parse(f, buf, wanted)
            if header is not None:
                header.file_stat = f.stat_key
            return header
    except (_TooDeep, _EndsInside) as exc:
        if strict:
            raise HeaderDamaged(str(exc)) from None
        return None
    except Exception:
        return None


def _file_size(f) -> int:
    return f.size


def _check_clean_end(f, stopped_at: int, found_any: bool) -> None:
    """The dataset ended without pixel data: fine when the last element ended exactly at the end
    of the file, else the file was cut inside an element of its header (said only when something
    of the header was recognised; otherwise pydicom decides whether it is DICOM at all)."""
    size = _file_size(f)
    if stopped_at != size:
        if not found_any:
            raise _Unsupported("nothing recognisable before the end of the file")
        raise _EndsInside(f"file ends inside its header (the last element is cut off at byte {size})")


def _vr_string(vr: bytes | None, vr_s: str | None, dict_vr: str) -> str:
    """The VR of a kept value when the file's VR is missing (implicit), unknown or UN: the
    dictionary's for implicit and UN (when it has one), else the file's own letters."""
    if vr_s == "UN" and not dict_vr:
        return vr_s
    return sys.intern(dict_vr.split(" or ")[0] if vr is None or vr_s == "UN" else vr.decode("ascii"))


def _parse(f, buf: bytes, wanted: Wanted) -> FastHeader | None:
    meta: dict = {}
    if len(buf) >= 132 and buf[128:132] == b"DICM":
        pos = 132
        expl_meta, u32_meta = _EXPL.unpack_from, _U32.unpack_from
        while pos + 8 <= len(buf):
            group, elem, vr, length = expl_meta(buf, pos)
            if group != 2:
                break
            if vr in _LONG_VRS:
                length = u32_meta(buf, pos + 8)[0]  # struct.error past the buffer: pydicom decides
                if length == 0xFFFFFFFF:
                    raise _Unsupported("undefined length in file meta")
                pos += 12
            elif 65 <= vr[0] <= 90 and 65 <= vr[1] <= 90:
                pos += 8
            else:
                raise _Unsupported("bad VR")
            if elem == 0x0010:
                meta["TransferSyntaxUID"] = buf[pos:pos + length].decode("ascii").rstrip("\x00 ")
            pos += length
        if pos != len(buf) and pos + 8 > len(buf) and _file_size(f) == len(buf):
            raise _EndsInside(f"file ends inside its header (in the file meta information, at byte {len(buf)})")
        ts = meta.get("TransferSyntaxUID", "")
        if ts in _NATIVE_TS:
            implicit = _NATIVE_TS[ts]
        elif ts.startswith("1.2.840.10008.1.2.4.") or ts == "1.2.840.10008.1.2.5":
            implicit = False  # encapsulated syntaxes: explicit VR little endian dataset
        else:
            raise _Unsupported("big endian, deflate or unknown transfer syntax")
    else:
        if buf[:2] not in (b"\x08\x00", b"\x02\x00"):
            raise _Unsupported("no preamble and not a little-endian group 0008")
        pos = 0
        vr = buf[4:6]
        implicit = not (len(vr) == 2 and 65 <= vr[0] <= 90 and 65 <= vr[1] <= 90)
    kws: list[str] = []  # the kept values, packed into the header at the end
    vrs: list[str] = []
    parts: list[bytes] = []
    tags = wanted.tags
    pixel: RawPixel | None = None
    base = 0  # file offset of buf[0]
    blen = len(buf)
    expl = _EXPL.unpack_from
    impl = _IMPL.unpack_from
    u32 = _U32.unpack_from
    long_vrs = _LONG_VRS
    short_vrs = _SHORT_VRS
    vr_names = _VR_NAMES
    fallback_sequences = _FALLBACK_SEQUENCES
    while True:
        if pos + 12 > blen:
            more = f.read(max(65536, blen))
            if more:
                buf = buf[pos:] + more
                base += pos
                pos = 0
                blen = len(buf)
                continue
            if pos + 8 > blen:
                _check_clean_end(f, base + pos, bool(kws) or bool(meta))
                break
        if implicit:
            group, elem, length = impl(buf, pos)
            if group == 2:
                group, elem, vr, length = expl(buf, pos)
                if vr in long_vrs:
                    length = u32(buf, pos + 8)[0]
                    pos += 12
                else:
                    pos += 8
            else:
                vr = None
                pos += 8
        else:
            group, elem, vr, length = expl(buf, pos)
            if vr in short_vrs:  # the common case first: one set lookup
                pos += 8
            elif vr in long_vrs:
                length = u32(buf, pos + 8)[0]
                pos += 12
            else:
                if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
                    raise _Unsupported("bad VR")
                pos += 8
        tag = (group << 16) | elem
        if group >= 0x7FE0:
            if tag == _PIXEL:
                pixel = RawPixel(base + pos, length)
                break
            if group > 0x7FE0:
                break
        hit = tags.get(tag)
        if hit is None and length != 0xFFFFFFFF:  # the common case: an element we do not keep
            pos += length
            if pos > blen:  # skip data we have not read yet
                f.seek(base + pos)
                base += pos
                buf, pos = f.read(65536), 0
                blen = len(buf)
            continue
        undefined = length == 0xFFFFFFFF
        if undefined:
            if hit is not None and hit[0] in _FALLBACK_SEQUENCES:
                raise _Unsupported("needed sequence")
            while True:
                try:
                    pos = _skip_undefined(buf, pos, implicit)
                    break
                except _TooDeep:
                    raise
                except _Unsupported:
                    more = f.read(1 << 20)
                    if not more or len(buf) > _MAX_SEQUENCE_BUFFER:
                        raise
                    buf = buf + more
                    blen = len(buf)
            continue
        if hit is None:
            pos += length
            if pos > blen:  # skip data we have not read yet
                f.seek(base + pos)
                base += pos
                buf, pos = f.read(65536), 0
                blen = len(buf)
            continue
        kw, dict_vr = hit
        if kw in fallback_sequences:
            if length:
                raise _Unsupported("needed sequence")
            continue
        end = pos + length
        if end <= blen:  # the common case: the value is in the buffer
            kws.append(kw)
            parts.append(buf[pos:end])
            vr_s = vr_names.get(vr) if vr is not None else None  # one string per VR for all headers
            if vr_s is None or vr_s == "UN":
                vr_s = _vr_string(vr, vr_s, dict_vr)
            vrs.append(vr_s)
            pos = end
            continue
        if base + pos + length > _file_size(f):  # never read (allocate) past the end
            raise _EndsInside(f"file ends inside its header (inside the value of {kw}, {length} bytes declared, "
                              f"{_file_size(f) - base - pos} present)")
        while pos + length > blen:
            more = f.read(max(65536, length))
            if not more:
                raise _EndsInside(f"file ends inside its header (inside the value of {kw}, "
                                  f"{length} bytes declared, {blen - pos} present)")
            buf = buf + more
            blen = len(buf)
        vr_s = _VR_NAMES.get(vr) if vr is not None else None
        if vr_s is None or vr_s == "UN":
            vr_s = _vr_string(vr, vr_s, dict_vr)
        kws.append(kw)
        vrs.append(vr_s)
        parts.append(buf[pos:pos + length])
        pos += length
    header = FastHeader.__new__(FastHeader)
    header._pack(kws, vrs, parts)
    cs_raw = header._raw_value("SpecificCharacterSet")
    cs = _decode(*cs_raw) if cs_raw is not None else ""
    cs_list = cs if isinstance(cs, list) else [cs]
    if any(c not in _OK_CHARSETS for c in cs_list):
        raise _Unsupported("character set needs pydicom")
    header._values = {}
    header.file_meta = _meta_of(meta)
    header._read_implicit, header._read_little, header.pixel_raw = implicit, True, pixel
    header._encoding = "utf-8" if "ISO_IR 192" in cs_list else "latin-1"
    header.file_stat = None
    return header
