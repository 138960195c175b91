"""Work-around for PySide6 6.12.0 on CPython 3.11: its binaries treat None (and the bools) as
immortal (a CPython >= 3.12 property) and return them without a new reference, so every call
of a void Qt method from Python (``widget.update()``, ``painter.drawLine(...)``, ``action.trigger()``)
takes one reference from None that was never given. After some thousand calls None's count
reaches zero and the interpreter aborts ("Fatal Python error: none_dealloc" / "bool_dealloc").
Reproduce: ``for _ in range(100): label.setText("x")`` lowers ``sys.getrefcount(None)`` by 100.
PySide6-Essentials 6.11.3 does not do this (checked the same way).

``protect()`` gives None, True and False a very large reference count once (what CPython 3.12
does for them), which makes the missing references harmless. It does nothing on CPython >= 3.12
or with another PySide6 version. The real fix is the dependency pin (PySide6-Essentials < 6.12
on Python 3.11).
"""

from __future__ import annotations

import ctypes
import sys

RESERVE = 1 << 30
_done = False


def affected() -> bool:
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    try:
        import PySide6
    except ImportError:
        return False
    return str(getattr(PySide6, "__version__", "")).startswith("6.12.")


def protect() -> bool:
    """Raise the reference counts of None/True/False once; True when it did."""
    global _done
    if _done or not affected():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += RESERVE  # ob_refcnt is the first field
    _done = True
    return True
