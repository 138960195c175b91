"""Build a Volume (CT/MR stack) from a SeriesEntry: single-frame files or enhanced multi-frame."""

from __future__ import annotations

import contextlib
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

import numpy as np

from app.core.progress import Cancelled, CancelToken, ProgressFn, check, report
from app.dicom import classify, sitk_bridge
from app.dicom.errors import DicomLoadError, InconsistentSeries, MosaicNotSupported, TruncatedFile
from app.dicom.geometry_check import clean_orientation, clean_position, clean_spacing, geometry_problem, plain_geometry
from app.dicom.headers import functional
from app.dicom.memory_guard import ensure_allocatable
from app.dicom.model import Geometry, InstanceHeader, Modality, Plane, SeriesEntry, Volume
from app.dicom.mosaic import MOSAIC_MESSAGE, file_is_mosaic
from app.dicom.pixels import (
    _raw_element as raw_element,
    bit_layout_note,
    decode_pixels,
    fast_path_ok,
    file_size,
    frame_shape,
    is_encapsulated,
    load_header_of,
    pixel_shape,
    raw_dtype,
    read_full,
    read_raw_into,
    stored_dtype,
    to_gray,
)
from app.dicom.rescale import finish_rescale, rescale_slice_in_place
from app.dicom.spacing import has_spacing_runs, is_irregular, resample_slices
from app.dicom.stacking import plan_stack

# Readers per volume load. Each slice's read and rescale release the GIL briefly, and every reader
# then competes with the GUI thread to take it back: with 4 readers on the 2-core machine the
# GUI's longest event-loop gap while a 300-slice CT loads was 74-113 ms, with 2 readers 37-52 ms,
# at the same load time (bench/gui_stall_bench.py and bench/load_bench.py, issue 16).
_THREADS = 2


@dataclass
class _Slice:
    path: Path
    ds: Any
    frame: int | None  # 0-based frame of a multi-frame object, None for single-frame
    rows: int
    cols: int
    position: np.ndarray | None
    iop: np.ndarray | None
    spacing: tuple[float, float] | None  # (row, column) mm
    slope: float
    intercept: float
    sop: str
    instance_number: int | None
    window: tuple[float, float] | None
    thickness: float | None


def _floats(value: Any, n: int) -> np.ndarray | None:
    if value is None:
        return None
    try:
        arr = np.array([float(v) for v in value], dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.shape == (n,) and np.all(np.isfinite(arr)) else None


@overload
def _float(value: Any, default: float) -> float: ...
@overload
def _float(value: Any, default: None = None) -> float | None: ...
def _float(value: Any, default: float | None = None) -> float | None:
    if value is None or value == "":
        return default
    try:
        if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
            value = value[0]
        return float(value)
    except (TypeError, ValueError, IndexError):
        return default


def _window(center: Any, width: Any) -> tuple[float, float] | None:
    c, w = _float(center), _float(width)
    if c is None or w is None or w <= 0:
        return None
    return (c, w)


def _slices_of(path: Path, ds: Any) -> list[_Slice]:
    n_frames, rows, cols = frame_shape(ds)
    sop = str(ds.get("SOPInstanceUID", "") or "")
    inst = None
    with contextlib.suppress(TypeError, ValueError):
        inst = int(ds.get("InstanceNumber"))
    if n_frames == 1 and "PerFrameFunctionalGroupsSequence" not in ds:
        sp = _floats(ds.get("PixelSpacing"), 2)
        return [_Slice(path, ds, None, rows, cols, _floats(ds.get("ImagePositionPatient"), 3),
                       _floats(ds.get("ImageOrientationPatient"), 6), tuple(sp) if sp is not None else None,
                       _float(ds.get("RescaleSlope"), 1.0), _float(ds.get("RescaleIntercept"), 0.0), sop, inst,
                       _window(ds.get("WindowCenter"), ds.get("WindowWidth")), _float(ds.get("SliceThickness")))]
    out = []
    top_iop = _floats(ds.get("ImageOrientationPatient"), 6)
    top_sp = _floats(ds.get("PixelSpacing"), 2)
    for f in range(n_frames):
        pos = _floats(functional(ds, "PlanePositionSequence", "ImagePositionPatient", f), 3)
        iop = _floats(functional(ds, "PlaneOrientationSequence", "ImageOrientationPatient", f), 6)
        sp = _floats(functional(ds, "PixelMeasuresSequence", "PixelSpacing", f), 2)
        thick = _float(functional(ds, "PixelMeasuresSequence", "SliceThickness", f))
        slope = _float(functional(ds, "PixelValueTransformationSequence", "RescaleSlope", f))
        icpt = _float(functional(ds, "PixelValueTransformationSequence", "RescaleIntercept", f))
        win = _window(functional(ds, "FrameVOILUTSequence", "WindowCenter", f),
                      functional(ds, "FrameVOILUTSequence", "WindowWidth", f))
        out.append(_Slice(
            path, ds, f, rows, cols, pos, iop if iop is not None else top_iop,
            tuple(sp) if sp is not None else (tuple(top_sp) if top_sp is not None else None),
            slope if slope is not None else _float(ds.get("RescaleSlope"), 1.0),
            icpt if icpt is not None else _float(ds.get("RescaleIntercept"), 0.0),
            sop, inst, win or _window(ds.get("WindowCenter"), ds.get("WindowWidth")),
            thick if thick is not None else _float(ds.get("SliceThickness"))))
    return out


def _check_size(path: Path, ds: Any) -> None:
    """Catch truncated files before geometry is planned: uncompressed pixel data shorter than
    declared, or more compressed frames declared than the file has bytes for (8-byte item
    header per frame at least)."""
    if not fast_path_ok(ds):
        n_frames = frame_shape(ds)[0]
        size = file_size(path)
        if n_frames > 1 and size and n_frames * 8 > size and is_encapsulated(ds):
            raise TruncatedFile(path, f"NumberOfFrames is {n_frames} but the file has only {size} bytes: the "
                                      f"file is truncated or the header is wrong")
        return
    raw = raw_element(ds)
    n_frames, rows, cols = frame_shape(ds)
    pixel_bytes = n_frames * rows * cols * raw_dtype(path, ds).itemsize
    if raw.value is not None:
        if len(raw.value) < pixel_bytes:
            raise TruncatedFile(path, f"file is truncated: pixel data has {len(raw.value)} of {pixel_bytes} bytes")
        return
    need = int(raw.value_tell) + pixel_bytes
    size = file_size(path)
    if size < need:
        raise TruncatedFile(path, f"file is truncated: {size} bytes, the image needs {need}")


def _read_headers(entry: SeriesEntry, progress, cancel, total_units: int, warnings: list[str]):
    results: list[tuple[Path, Any]] = []
    errors: list[DicomLoadError] = []

    def job(h: InstanceHeader):
        p = h.path
        ds = load_header_of(h)  # the scan's parse when the file is unchanged
        if file_is_mosaic(p, ds):
            raise MosaicNotSupported(p, MOSAIC_MESSAGE)
        pixel_shape(p, ds)  # impossible or multi-valued sizes: typed error for this file
        _check_size(p, ds)
        return ds

    # sequential: header parsing is CPU-bound Python (threads only add GIL contention)
    for done, h in enumerate(entry.instances, start=1):
        p = h.path
        if done % 16 == 1:
            check(cancel)
        try:
            results.append((p, job(h)))
        except DicomLoadError as exc:
            errors.append(exc)
            warnings.append(f"skipped {p.name}: {exc.message}")
        except Exception as exc:
            err = DicomLoadError(p, f"header values cannot be used ({type(exc).__name__}: {exc})")
            errors.append(err)
            warnings.append(f"skipped {p.name}: {err.message}")
        report(progress, done, total_units)
    return results, errors


def _raise_nothing(errors: list[DicomLoadError], entry: SeriesEntry) -> None:
    if errors:
        kinds = {type(e) for e in errors}
        if len(kinds) == 1:
            raise errors[0]
        raise DicomLoadError(errors[0].path, f"no image of series {entry.key} could be loaded; first problem: "
                                             f"{errors[0].message}")
    raise InconsistentSeries(entry.instances[0].path if entry.instances else None,
                             f"series {entry.key} has no loadable images")


def _majority(slices: list[_Slice], warnings: list[str]) -> list[_Slice]:
    shapes = Counter((s.rows, s.cols) for s in slices)
    shape = shapes.most_common(1)[0][0]
    out = [s for s in slices if (s.rows, s.cols) == shape]
    if len(out) < len(slices):
        warnings.append(f"{len(slices) - len(out)} image(s) with a different matrix than {shape[0]}x{shape[1]} "
                        f"left out")
    iops = [s.iop for s in out if s.iop is not None]
    if iops:
        keys = Counter(tuple(np.round(iop, 2)) for iop in iops)
        ref = np.array(keys.most_common(1)[0][0])
        same = [s for s in out if s.iop is not None and np.max(np.abs(s.iop - ref)) <= 0.02]
        if len(same) < len(out):
            warnings.append(f"{len(out) - len(same)} image(s) with another orientation (or none) left out")
        out = same
    return out


def build_volume(entry: SeriesEntry, progress: ProgressFn | None = None,
                 cancel: CancelToken | None = None) -> Volume:
    warnings: list[str] = []
    n_files = len(entry.instances)
    total_units = 2 * n_files
    report(progress, 0, total_units)
    results, errors = _read_headers(entry, progress, cancel, total_units, warnings)
    slices: list[_Slice] = []
    subsets = {h.path: set(h.frame_numbers) for h in entry.instances if h.frame_numbers}  # split multi-frame
    for p, ds in results:
        try:
            if "Rows" not in ds or "Columns" not in ds:
                raise DicomLoadError(p, "no Rows/Columns: not an image")
            slices.extend(s for s in _slices_of(p, ds)
                          if p not in subsets or (s.frame is not None and s.frame + 1 in subsets[p]))
        except DicomLoadError as exc:
            errors.append(exc)
            warnings.append(f"skipped {p.name}: {exc.message}")
        except Exception as exc:
            err = DicomLoadError(p, f"header values cannot be used ({type(exc).__name__}: {exc})")
            errors.append(err)
            warnings.append(f"skipped {p.name}: {err.message}")
    if not slices:
        _raise_nothing(errors, entry)
    _clean_geometry(slices, warnings)
    slices = _majority(slices, warnings)
    if not slices:
        raise InconsistentSeries(entry.instances[0].path, "no two images of the series share a matrix and orientation")

    ref = slices[0]
    iop = ref.iop
    normal = classify.orientation_normal(iop) if iop is not None else None
    labels = [s.path.name + (f" frame {s.frame + 1}" if s.frame is not None else "") for s in slices]
    geometry_known = normal is not None and all(s.position is not None for s in slices)
    if geometry_known and iop is not None and normal is not None:  # (geometry_known implies both)
        plan = plan_stack(np.array([s.position for s in slices]), normal, labels, ref.thickness)
        row_cos, col_cos = iop[:3], iop[3:]
    else:
        warnings.append("no usable ImagePositionPatient/ImageOrientationPatient: slices are in instance-number "
                        "order and distances along the slice axis are unknown (1 mm assumed)")
        order = sorted(range(len(slices)), key=lambda i: (slices[i].instance_number is None,
                                                           slices[i].instance_number or 0,
                                                           slices[i].frame or 0, str(slices[i].path)))
        from app.dicom.stacking import StackPlan

        row_cos = iop[:3] if iop is not None else np.array([1.0, 0, 0])
        col_cos = iop[3:] if iop is not None else np.array([0, 1.0, 0])
        normal = np.cross(row_cos, col_cos)
        pos0 = slices[order[0]].position if slices[order[0]].position is not None else np.zeros(3)
        plan = StackPlan(order, list(range(len(order))), len(order), np.asarray(pos0, float), normal, 1.0)
    warnings.extend(plan.warnings)
    if ref.spacing is None:
        warnings.append("no PixelSpacing: in-plane distances are in pixels (1 mm assumed)")
        row_mm, col_mm = 1.0, 1.0
    else:
        row_mm, col_mm = ref.spacing
        if row_mm <= 0 or col_mm <= 0:
            warnings.append("invalid PixelSpacing: 1 mm assumed")
            row_mm, col_mm = 1.0, 1.0

    kept = [slices[i] for i in plan.order]
    notes = {n for n in (bit_layout_note(s.ds) for s in kept[:1] + kept[-1:]) if n}
    warnings.extend(sorted(notes))
    dtypes = {stored_dtype(s.ds) for s in kept}
    all_fast = all(fast_path_ok(s.ds) for s in kept) and len(dtypes) == 1
    n_k, rows, cols = plan.n_k, ref.rows, ref.cols
    sdt = raw_dtype(ref.path, ref.ds) if all_fast else None  # the one dtype of all slices
    mask_real = np.zeros(n_k, dtype=bool)
    mask_real[plan.k_index] = True

    ensure_allocatable(ref.path, n_k * rows * cols * (sdt.itemsize if sdt is not None else 4),
                       f"a volume of {n_k} slices of {rows}x{cols}")

    def decode_file(path: Path) -> np.ndarray:
        try:
            check(cancel)
            ds = read_full(path)
            return to_gray(decode_pixels(path, ds, cancel), str(ds.get("PhotometricInterpretation", "")))
        except (DicomLoadError, Cancelled):
            raise
        except Exception as exc:
            raise DicomLoadError(path, f"damaged header or pixel values ({type(exc).__name__}: {exc})") from exc

    failed = np.zeros(n_k, dtype=bool)
    pixel_errors: list[DicomLoadError] = []
    done = [n_files]
    check(cancel)
    raw_min = np.zeros(n_k)  # per slice, before the rescale (fast path: recorded while reading)
    rescaled = np.zeros(n_k, dtype=bool)  # slices already rewritten as int16 while reading
    if all_fast and sdt is not None:
        # a volume above sitk_bridge.MAX_CACHED_BYTES is read into a SimpleITK image's buffer, so
        # oblique planes are resampled from it without a second copy of its voxels
        stored = sitk_bridge.volume_buffer((n_k, rows, cols), sdt)
        if stored is None:
            stored = np.empty((n_k, rows, cols), dtype=sdt)
        tasks = list(zip(plan.k_index, kept, strict=True))

        def fast_file(buffer: np.ndarray, items: list[tuple[int, _Slice]]) -> None:
            """Read the slices of one file into ``buffer``; stops at the first that fails."""
            for k, s in items:
                try:
                    read_raw_into(s.path, s.ds, buffer[k], s.frame)
                    raw_min[k], rescaled[k] = rescale_slice_in_place(buffer[k], s.slope, s.intercept)
                except DicomLoadError:
                    raise
                except Exception as exc:
                    raise DicomLoadError(s.path, f"pixel data cannot be read ({type(exc).__name__}: {exc})") from exc

        by_file = _group_by_file(tasks)
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            futures = [pool.submit(fast_file, stored, items) for items in by_file]
            for fut in futures:
                if cancel is not None and cancel.cancelled:
                    for f in futures:
                        f.cancel()
                    raise Cancelled("cancelled by the user")
                try:
                    fut.result()
                except DicomLoadError as exc:
                    pixel_errors.append(exc)
                    _mark_failed(exc, tasks, failed, warnings)
                done[0] += 1
                report(progress, min(done[0], total_units), total_units)
    else:
        decoded: dict[Path, np.ndarray] = {}
        files = list(dict.fromkeys(s.path for s in kept))
        with ThreadPoolExecutor(max_workers=_THREADS) as pool:
            futures_by_path = {p: pool.submit(decode_file, p) for p in files}
            for p, fut_p in futures_by_path.items():
                if cancel is not None and cancel.cancelled:
                    for pending in futures_by_path.values():
                        pending.cancel()
                    raise Cancelled("cancelled by the user")
                try:
                    decoded[p] = fut_p.result()
                except DicomLoadError as exc:
                    pixel_errors.append(exc)
                    warnings.append(f"could not read the image of {p.name}: {exc.message}; its slice position is left blank")
                done[0] += 1
                report(progress, min(done[0], total_units), total_units)
        if not decoded:
            _raise_nothing(pixel_errors or errors, entry)
        frames_dtype = np.result_type(*[a.dtype for a in decoded.values()])
        if frames_dtype == np.float64:
            frames_dtype = np.dtype(np.float32)
        stored = np.zeros((n_k, rows, cols), dtype=frames_dtype)
        for k, s in zip(plan.k_index, kept, strict=True):
            arr = decoded.get(s.path)
            if arr is None:
                failed[k] = True
                continue
            frame = arr[s.frame] if (s.frame is not None and arr.ndim == 3) else arr
            if frame.shape != (rows, cols):
                failed[k] = True
                warnings.append(f"{s.path.name}: decoded image is {frame.shape}, expected {rows}x{cols}; blank")
                continue
            stored[k] = frame
            raw_min[k] = float(frame.min()) if frame.size else 0.0
        del decoded

    real = mask_real & ~failed
    if not real.any():
        _raise_nothing(pixel_errors or errors or [DicomLoadError(ref.path, "no slice could be decoded")], entry)
    blank = ~real
    slopes = np.ones(n_k)
    intercepts = np.zeros(n_k)
    for k, s in zip(plan.k_index, kept, strict=True):
        slopes[k], intercepts[k] = s.slope, s.intercept
    if blank.any():
        stored[blank] = raw_min[real].min()  # per-slice minima: no copy of the volume
        first = int(np.argmax(real))
        for k_blank in np.nonzero(blank)[0]:
            slopes[k_blank], intercepts[k_blank] = slopes[first], intercepts[first]
            rescaled[k_blank] = False  # holds a stored value
    array = finish_rescale(stored, slopes, intercepts, rescaled)
    del stored  # free the raw frames now

    sops = [""] * n_k
    frames = [0] * n_k
    for k, s in zip(plan.k_index, kept, strict=True):
        sops[k] = s.sop
        frames[k] = (s.frame + 1) if s.frame is not None else 0
    grid = _KGrid(array, plan.origin_lps, plan.spacing_k_mm, sops, frames)
    t_mm = _distances_along_k(kept, plan) if geometry_known else None
    if t_mm is not None and (is_irregular(t_mm, plan.k_index, plan.spacing_k_mm) or has_spacing_runs(t_mm)):
        geometry_known = _resample_variable_spacing(grid, kept, plan, real, warnings)
    array, n_k = grid.array, grid.array.shape[0]

    direction = np.column_stack([row_cos, col_cos, plan.k_axis_lps])
    geometry = Geometry(grid.origin_lps, np.array([col_mm, row_mm, grid.spacing_k_mm]), direction, (cols, rows, n_k))
    problem = geometry_problem(geometry)
    if problem is not None:
        warnings.append(f"unusable geometry ({problem}): shown as plain images in slice order, distances are "
                        f"in pixels")
        geometry = plain_geometry((cols, rows, n_k))
    mid = kept[len(kept) // 2]
    modality = entry.modality
    plane = classify.plane_of(ref.iop) if ref.iop is not None else None
    return Volume(
        array=array, geometry=geometry, modality=modality, series_instance_uid=entry.series_instance_uid,
        frame_of_reference_uid=str(ref.ds.get("FrameOfReferenceUID", "") or "") or entry.frame_of_reference_uid,
        sop_instance_uids=sops,
        frame_numbers=frames if any(s.frame is not None for s in kept) else [],
        window_center_width=mid.window, units="HU" if entry.modality is Modality.CT else "",
        description=entry.description, plane=plane or Plane.OBLIQUE,
        sequence=classify.mr_sequence(mid.ds) if entry.modality is Modality.MR else None,
        slice_thickness_mm=mid.thickness,
        warnings=warnings + [w for w in entry.warnings if w not in warnings
                             and not (grid.resampled and w.startswith(_SPACING_WARNINGS))],
        geometry_reliable=geometry_known and problem is None, resampled=grid.resampled,
        acquired_k_mm=grid.acquired_k_mm,
    )


@dataclass
class _KGrid:
    """The volume along k: voxels, first-slice origin, step, and per-k SOP/frame references."""

    array: np.ndarray
    origin_lps: np.ndarray
    spacing_k_mm: float
    sops: list[str]
    frames: list[int]
    resampled: bool = False
    acquired_k_mm: list[float] = field(default_factory=list)


# stacking.py's wording for irregular stacks; replaced by one "variable slice spacing" note
_SPACING_WARNINGS = ("non-uniform slice spacing", "missing slice(s)", "... and ")


def _distances_along_k(kept: list[_Slice], plan: Any) -> np.ndarray:
    """True distance (mm) of each kept slice from the first along the plan's k axis."""
    iop = kept[0].iop
    positions_lps = [s.position for s in kept if s.position is not None]
    if iop is None or len(positions_lps) != len(kept):
        raise ValueError("internal: distances along k need every slice's position and orientation")
    normal = np.cross(iop[:3], iop[3:])
    along = float(plan.k_axis_lps @ normal) or 1.0
    p0 = positions_lps[0]
    return np.array([float((p - p0) @ normal) / along for p in positions_lps])


def _resample_variable_spacing(grid: _KGrid, kept: list[_Slice], plan: Any, real: np.ndarray,
                               warnings: list[str]) -> bool:
    """Put irregularly spaced slices on a regular k grid (true distances kept). False when the
    positions are too irregular for any grid: the slices stay in order, 1 mm apart, unknown."""
    t_mm = _distances_along_k(kept, plan)
    real_k = [k for k in plan.k_index if real[k]]
    t_real = np.array([t for k, t in zip(plan.k_index, t_mm, strict=True) if real[k]])
    res = resample_slices(grid.array[real_k], t_real) if len(real_k) > 1 else None
    warnings[:] = [w for w in warnings if not w.startswith(_SPACING_WARNINGS)]
    if res is None:
        warnings.append("slice positions are too irregular to put on a regular grid: slices are shown in "
                        "order and distances along the slice axis are unknown (1 mm assumed)")
        grid.spacing_k_mm = 1.0
        return False
    diffs = np.diff(t_real)
    warnings.append(
        f"variable slice spacing ({np.min(diffs):.2f} to {np.max(diffs):.2f} mm): the {len(real_k)} acquired "
        f"slices were resampled onto a regular {res.step_mm:.2f} mm grid (linear interpolation between "
        f"neighbours) so reformats and measurements use true distances"
        + (f"; {res.blank_k} slice(s) across wide gaps left blank" if res.blank_k else ""))
    first = kept[plan.k_index.index(real_k[0])]
    grid.array, grid.spacing_k_mm, grid.resampled = res.array, res.step_mm, True
    grid.origin_lps = np.asarray(first.position, dtype=np.float64)
    grid.acquired_k_mm = [float(t - t_real[0]) for t in t_real]
    grid.sops = [grid.sops[real_k[i]] if i is not None else "" for i in res.source_of_k]
    grid.frames = [grid.frames[real_k[i]] if i is not None else 0 for i in res.source_of_k]
    return True


def _clean_geometry(slices: list[_Slice], warnings: list[str]) -> None:
    """Unusable orientation/position/spacing values count as absent (checked once, here)."""
    bad = 0
    for s in slices:
        iop, pos, sp = clean_orientation(s.iop), clean_position(s.position), clean_spacing(s.spacing)
        bad += (iop is None and s.iop is not None) or (pos is None and s.position is not None) or (
            sp is None and s.spacing is not None)
        s.iop, s.position, s.spacing = iop, pos, sp
    if bad:
        warnings.append(f"{bad} image(s) have impossible orientation, position or pixel spacing values; "
                        f"those values are ignored")


def _group_by_file(tasks):
    groups: dict[Path, list] = {}
    for k, s in tasks:
        groups.setdefault(s.path, []).append((k, s))
    return list(groups.values())


def _mark_failed(exc: DicomLoadError, tasks, failed: np.ndarray, warnings: list[str]) -> None:
    for k, s in tasks:
        if exc.path is not None and s.path == exc.path:
            failed[k] = True
    name = exc.path.name if exc.path is not None else "?"
    warnings.append(f"could not read the image of {name}: {exc.message}; its slice position is left blank")
