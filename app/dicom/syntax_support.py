"""Scan-time verdict on a transfer syntax: is it a private (vendor) or unsupported compression?

Known syntaxes that Isthmus reads are answered from a table without importing pydicom; anything
else is asked of pydicom's decoder registry once per UID."""

from __future__ import annotations

import functools

from app.dicom.transfer import DECODER_PACKAGES, NATIVE_UIDS, transfer_syntax_name

# Vendor syntaxes seen on real media (UID -> vendor and what it is).
PRIVATE_SYNTAXES = {
    "1.3.46.670589.33.1.4.1": "Philips private compression",
    "1.2.840.113619.5.2": "GE private implicit VR big endian",
}

_STANDARD_ROOT = "1.2.840.10008."


def is_private_syntax(uid: str) -> bool:
    return bool(uid) and (uid in PRIVATE_SYNTAXES or not uid.startswith(_STANDARD_ROOT))


@functools.lru_cache(maxsize=64)
def syntax_problem(uid: str) -> str | None:
    """None when Isthmus has a decoder for ``uid`` (or the UID is unknown/absent: the loader then
    decides), else a plain sentence naming the compression as private or unsupported."""
    if not uid or uid in NATIVE_UIDS or uid in DECODER_PACKAGES:
        return None
    if is_private_syntax(uid):
        what = PRIVATE_SYNTAXES.get(uid, "vendor-specific transfer syntax")
        return (f"private compression: {what} ({uid}); the images can only be decoded by the vendor's "
                f"software, Isthmus cannot show them")
    try:
        from pydicom.pixels.decoders.base import get_decoder

        if get_decoder(uid).is_available:
            return None
    except NotImplementedError:
        pass
    except Exception:
        return None
    return (f"unsupported compression: {transfer_syntax_name(uid)} ({uid}); no installed decoder handles it, "
            f"so the images will most likely not load")


def syntax_label(uid: str) -> str:
    """Readable name of a transfer syntax for listings; private syntaxes say so."""
    if is_private_syntax(uid):
        return f"private: {PRIVATE_SYNTAXES.get(uid, uid)}"
    return transfer_syntax_name(uid)
