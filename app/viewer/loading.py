"""Pure loading steps the UI runs in worker threads: scan, preview, series + prepared numbers.

``app.dicom`` (and so pydicom) is imported only when one of these runs, which keeps the
window's cold start light.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from app.core.progress import CancelToken, ProgressFn, check


def prewarm(progress: ProgressFn | None = None, cancel: CancelToken | None = None) -> float:
    """Import the DICOM stack (pydicom and its pixel decoders) ahead of the first scan. Imports
    hold the GIL for long stretches, so doing them while the window is idle keeps them out of
    the first load. Returns the seconds it took."""
    import importlib
    import time

    t = time.perf_counter()
    for name in ("pydicom", "pydicom.pixels", "app.dicom.scan", "app.dicom.load", "app.dicom.volume",
                 "app.dicom.pixels", "app.dicom.radiograph"):
        check(cancel)
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    return time.perf_counter() - t


def scan(paths: Sequence[str], progress: ProgressFn | None = None, cancel: CancelToken | None = None):
    """Scan ``paths`` (a study being opened: what the previous one freed is first handed back to
    the operating system, and so is what the scan itself freed: the headers of a 1,500-file
    series left 26 MB of freed heap in the RSS, bench/bigct_bench.py, issue 16)."""
    from app.dicom import scan_paths
    from app.dicom.memory_guard import release_free_heap

    release_free_heap()
    try:
        return scan_paths([str(p) for p in paths], progress=progress, cancel=cancel)
    finally:
        release_free_heap()


def scan_with_extras(paths: Sequence[str], progress: ProgressFn | None = None,
                     cancel: CancelToken | None = None):
    """(ScanResult, {study UID: {"PatientAge": ...}}): the scan, plus what the review
    session needs from one header per study that the scan does not keep (read here, off the
    GUI thread, with pydicom)."""
    from app.viewer.study_info import read_study_extras

    result = scan(paths, progress, cancel)
    extras = {st.study_instance_uid: read_study_extras(st) for p in result.patients for st in p.studies}
    return result, extras


def preview(entry: Any, progress: ProgressFn | None = None, cancel: CancelToken | None = None):
    """The first look at a series: a large JPEG 2000 radiograph at reduced resolution (several
    times faster; the loaded series replaces it), anything else as load_preview reads it."""
    import numpy.ma  # noqa: F401  # np.percentile (the display's auto window) imports it lazily: 18 ms, here not on the GUI thread

    from app.dicom import load_preview

    check(cancel)
    if getattr(entry, "kind", "") == "radiograph" and entry.instances:
        from app.dicom.reduced_preview import reduced_preview

        arr = reduced_preview(entry.instances[0].path)
        if arr is not None:
            return arr
    return load_preview(entry)


def load(entry: Any, progress: ProgressFn | None = None, cancel: CancelToken | None = None):
    """(Volume | list[Radiograph], VolumePrep | None) with the whole-volume numbers computed here,
    off the GUI thread."""
    from app.dicom import load_series
    from app.dicom.memory_guard import release_free_heap
    from app.dicom.model import Volume
    from app.viewer.display import prepare_volume

    obj = load_series(entry, progress=progress, cancel=cancel)
    check(cancel)
    prep = prepare_volume(obj) if isinstance(obj, Volume) else None
    release_free_heap()  # the loading threads' temporaries
    return obj, prep


def thumbnail(pixels, modality: str = "", size: int = 64):
    """Small uint8 image of a preview for the study browser."""
    import numpy as np

    from app.viewer.display import PreviewDisplay

    a = np.asarray(pixels)
    if a.ndim == 3:
        a = a[a.shape[0] // 2]
    step = max(1, int(np.ceil(max(a.shape) / size)))
    return PreviewDisplay(a[::step, ::step], modality).frame().pixels
