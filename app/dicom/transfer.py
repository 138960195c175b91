"""Transfer syntax names and which optional package decodes each compressed syntax."""

from __future__ import annotations

NATIVE_UIDS = {
    "1.2.840.10008.1.2": "Implicit VR Little Endian",
    "1.2.840.10008.1.2.1": "Explicit VR Little Endian",
    "1.2.840.10008.1.2.2": "Explicit VR Big Endian",
    "1.2.840.10008.1.2.1.99": "Deflated Explicit VR Little Endian",
}

# Little-endian syntaxes whose pixel bytes can be read straight from the file.
RAW_LITTLE_ENDIAN = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1"}

_LIBJPEG = "pylibjpeg + pylibjpeg-libjpeg"
_OPENJPEG = "pylibjpeg + pylibjpeg-openjpeg"
_RLE = "pylibjpeg + pylibjpeg-rle"
_GDCM = "python-gdcm"

# uid prefix -> packages that decode it (first is the preferred one)
DECODER_PACKAGES = {
    "1.2.840.10008.1.2.4.50": [_LIBJPEG, _GDCM],  # JPEG Baseline
    "1.2.840.10008.1.2.4.51": [_LIBJPEG, _GDCM],  # JPEG Extended
    "1.2.840.10008.1.2.4.57": [_LIBJPEG, _GDCM],  # JPEG Lossless
    "1.2.840.10008.1.2.4.70": [_LIBJPEG, _GDCM],  # JPEG Lossless SV1
    "1.2.840.10008.1.2.4.80": [_LIBJPEG, _GDCM, "pyjpegls"],  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81": [_LIBJPEG, _GDCM, "pyjpegls"],  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.90": [_OPENJPEG, _GDCM],  # JPEG 2000 lossless
    "1.2.840.10008.1.2.4.91": [_OPENJPEG, _GDCM],  # JPEG 2000
    "1.2.840.10008.1.2.4.201": [_OPENJPEG],  # HTJ2K
    "1.2.840.10008.1.2.4.202": [_OPENJPEG],
    "1.2.840.10008.1.2.4.203": [_OPENJPEG],
    "1.2.840.10008.1.2.5": [_RLE, _GDCM],  # RLE Lossless
}


def transfer_syntax_name(uid: str) -> str:
    """A readable name for a transfer syntax UID (the UID itself when unknown)."""
    if not uid:
        return "unknown (no file meta)"
    if uid in NATIVE_UIDS:
        return NATIVE_UIDS[uid]
    try:
        from pydicom.uid import UID

        name = UID(uid).name
        return name if name and name != uid else uid
    except Exception:
        return uid


def decoder_hint(uid: str) -> str:
    """Plain advice naming the package(s) that would decode pixel data in this syntax."""
    pkgs = DECODER_PACKAGES.get(uid)
    if pkgs:
        return "install " + " or ".join(pkgs) + " to decode it"
    return ("no decoder is known for it (pylibjpeg-libjpeg, pylibjpeg-openjpeg, pylibjpeg-rle "
            "and python-gdcm cover the usual compressed syntaxes)")
