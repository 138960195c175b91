"""StudyController: scans and loads in the background and publishes the results on the GUI
thread. It owns the loaded-series cache for the open study; widgets never load anything."""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from app.dicom.memory_guard import use_mmap_for_large_blocks
from app.ui.gil_switch import use_gui_switch_interval
from app.ui.workers import Worker, WorkerSignals, start_worker
from app.viewer import loading

log = logging.getLogger(__name__)

RELEASE_FALLBACK_MS = 200  # held loads start this long after the last preview if no image was painted
_USER_WORK = ("scan", "preview", "load")  # what the progress bar and Cancel stand for


def _prewarm_all(progress=None, cancel=None) -> float:
    """The DICOM stack, then what the review dock builds when a study opens (session, pathway
    rules): imported here, off the GUI thread, so opening a study does not stall the window."""
    t = time.perf_counter()
    loading.prewarm(progress, cancel)
    import importlib
    import pkgutil

    import app

    skip = ("app.subcommands", "app.samples", "app.__main__", "app.cli")
    names = [m.name for m in pkgutil.walk_packages(app.__path__, "app.") if not m.name.startswith(skip)]
    for name in names:
        if cancel is not None and cancel.cancelled:
            break
        try:  # modules only: no widget is created off the GUI thread
            importlib.import_module(name)
        except Exception as exc:  # optional parts (e.g. a review panel not built yet)
            log.info("prewarm of %s skipped: %s", name, exc)
    try:
        from app.pathway import load_ruleset

        load_ruleset()
    except Exception as exc:
        log.info("ruleset prewarm skipped: %s", exc)
    return time.perf_counter() - t


def _thumb_job(entry):
    px = loading.preview(entry)
    return loading.thumbnail(px, entry.modality.value)


class StudyController(QObject):
    sig_scan_started = Signal(object)  # paths
    sig_scanned = Signal(object)  # ScanResult
    sig_preview = Signal(str, object)  # series key, 2D ndarray
    sig_thumbnail = Signal(str, object)  # series key, small uint8 ndarray
    sig_loaded = Signal(str, object, object)  # key, Volume | list[Radiograph], VolumePrep | None
    sig_failed = Signal(str, str)  # key ("" for the scan), message
    sig_progress = Signal(str, int, int)  # label, done, total
    sig_busy = Signal(bool)
    sig_cancelled = Signal()
    sig_warm = Signal(float)  # the DICOM stack is imported (seconds it took)

    def __init__(self, parent=None, max_threads: int = 2) -> None:
        super().__init__(parent)
        use_gui_switch_interval()  # workers hand the GIL back to the GUI thread sooner
        use_mmap_for_large_blocks()  # a closed study's buffers leave the RSS (issue 16)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max_threads)
        # One signals object for every worker, connected once: opening a study starts ~15 jobs,
        # and each Qt call from the GUI thread waits to re-take the GIL from the workers already
        # running (issue 16: ~100 ms of the request loop on the way to the first image).
        self._signals = WorkerSignals(self)
        self._signals.finished.connect(self._on_finished)
        self._signals.failed.connect(self._on_failed)
        self._signals.progress.connect(self._on_progress)
        self._signals.cancelled.connect(self._on_cancelled)
        self.result = None
        self.study_extras: dict[str, dict[str, str]] = {}  # study UID -> {"PatientAge": ...}
        self.paths: list[str] = []
        self.loaded: dict[str, tuple[Any, Any]] = {}
        self._entries: dict[str, Any] = {}
        self._pending: set[str] = set()
        self._workers: dict[int, Worker] = {}
        self._labels: dict[str, str] = {}
        self._generation = 0
        self.warm = False
        self._warming = False
        self._last_progress = 0.0
        # A newly opened study's full loads and thumbnails wait until its first image is on
        # screen (release_loads) or no preview is left: a full-resolution JPEG 2000 decode holds
        # the GIL ~100 ms (pylibjpeg, Pillow and GDCM alike, measured), and started beside the
        # previews it delayed the first paint by that much (issue 16, first image).
        self._hold_loads = False
        self._held: list[tuple[str, Any]] = []
        self._thumbs_held = False

    def prewarm(self) -> None:
        """Import pydicom & co. in the background while the window is idle."""
        if self.warm or self._warming:
            return
        if self.busy:  # a study is loading (e.g. `isthmus open PATH`): warm up once it is shown
            self.sig_busy.connect(self._prewarm_when_idle)
            return
        self._warming = True
        self._start("warm", "", _prewarm_all, priority=-5)

    def _prewarm_when_idle(self, busy: bool) -> None:
        if not busy:
            self.sig_busy.disconnect(self._prewarm_when_idle)
            self.prewarm()

    # ---- workers ---------------------------------------------------------------------------
    def _start(self, kind: str, key: str, fn, *args, priority: int = 0, pass_progress: bool = True) -> Worker:
        was_busy = self.busy
        w = Worker(fn, *args, pass_progress=pass_progress, signals=self._signals)
        self._workers[id(w)] = w
        w.tag = (kind, key, self._generation, id(w))
        if kind in _USER_WORK and not was_busy:
            self.sig_busy.emit(True)
        start_worker(self.pool, w, priority)
        return w

    def _done(self, tag) -> bool:
        """Forget the worker; False when its result belongs to a study no longer open."""
        self._workers.pop(tag[-1], None)  # app.ui.workers.start_worker deletes it later
        if tag[0] == "load":
            self._pending.discard(tag[1])
        if tag[0] in _USER_WORK and not self.busy:
            self.sig_busy.emit(False)
        if tag[0] == "warm":
            return True
        return tag[2] == self._generation

    def _on_finished(self, tag, result) -> None:
        if not self._done(tag):
            return
        try:
            self._deliver(tag, result)
        finally:
            self._release_if_no_preview_left()

    def _deliver(self, tag, result) -> None:
        kind, key = tag[0], tag[1]
        if kind == "warm":
            self.warm = True
            self.sig_warm.emit(float(result))
        elif kind == "scan":
            self._on_scanned(result)
        elif kind == "preview":
            if key not in self.loaded:
                self.sig_preview.emit(key, result)
        elif kind == "thumb":
            self.sig_thumbnail.emit(key, result)
        elif kind == "load":
            obj, prep = result
            self.loaded[key] = (obj, prep)
            self.sig_loaded.emit(key, obj, prep)

    def _on_failed(self, tag, message: str) -> None:
        if not self._done(tag):
            return
        if tag[0] in ("scan", "load"):
            self.sig_failed.emit(tag[1], message)
        else:
            log.info("%s of %s failed: %s", tag[0], tag[1], message)
        self._release_if_no_preview_left()

    def _on_progress(self, tag, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last_progress < 0.05:  # at most ~20 updates a second
            return
        self._last_progress = now
        if tag[2] == self._generation and tag[0] in ("scan", "load"):
            self.sig_progress.emit(self._labels.get(tag[1], "Scanning") if tag[0] == "load" else "Scanning", done, total)

    def _on_cancelled(self, tag) -> None:
        self._done(tag)
        self._release_if_no_preview_left()
        if tag[0] == "warm":
            self._warming = False
        if tag[0] in ("scan", "load") and tag[2] == self._generation:  # not the loads of a study closed or replaced
            self.sig_cancelled.emit()

    @property
    def busy(self) -> bool:
        """Scanning or loading for the reader (background warm-up and thumbnails do not count)."""
        return bool(self._held) or any(w.tag[0] in _USER_WORK for w in self._workers.values())

    def cancel(self) -> None:
        for w in list(self._workers.values()):
            w.cancel()

    def entry(self, key: str):
        return self._entries.get(key)

    # ---- scanning --------------------------------------------------------------------------
    def open_paths(self, paths: list[str]) -> None:
        self.cancel()
        self._forget_study([str(p) for p in paths])
        self._hold_loads, self._thumbs_held = True, False
        self.sig_scan_started.emit(self.paths)
        self._start("scan", "", loading.scan_with_extras, self.paths, priority=10)

    def _on_scanned(self, scanned) -> None:
        result, self.study_extras = scanned
        self.result = result
        self._entries = {s.key: s for s in result.all_series()}
        self.sig_scanned.emit(result)

    def request_thumbnails(self) -> None:
        if self._hold_loads:
            self._thumbs_held = True
            return
        for s in self._entries.values():
            self._start("thumb", s.key, _thumb_job, s, priority=-1, pass_progress=False)

    # ---- loading ---------------------------------------------------------------------------
    def request(self, key: str) -> None:
        """Make ``key`` available: sig_preview early, sig_loaded when done (at once if cached)."""
        self.request_all([key])

    def request_all(self, keys: list[str]) -> None:
        """``request`` for several series: every preview is started before any full load, so the
        first images are not decoded alongside a full-resolution load (a JPEG 2000 radiograph's
        decoders hold the GIL ~100 ms, and the GUI thread waits behind them)."""
        todo = []
        for key in dict.fromkeys(keys):
            if key in self.loaded:
                obj, prep = self.loaded[key]
                self.sig_loaded.emit(key, obj, prep)
                continue
            if key in self._pending:
                continue
            entry = self._entries.get(key)
            if entry is None:
                self.sig_failed.emit(key, f"series {key} is not in the scanned study")
                continue
            self._labels[key] = f"Loading {entry.description or entry.modality_code}"
            self._pending.add(key)
            todo.append((key, entry))
        for key, entry in todo:
            self._start("preview", key, loading.preview, entry, priority=10)
        if self._hold_loads:
            self._held.extend(todo)
            return
        for key, entry in todo:
            self._start("load", key, loading.load, entry, priority=5)

    def release_loads(self) -> None:
        """Start the loads (and thumbnails) held back for the new study's first image."""
        self._hold_loads = False
        held, self._held = self._held, []
        for key, entry in held:
            if key in self._pending and key not in self.loaded:
                self._start("load", key, loading.load, entry, priority=5)
        if self._thumbs_held:
            self._thumbs_held = False
            self.request_thumbnails()

    def _release_if_no_preview_left(self) -> None:
        """The fallback when no image is painted (every preview failed, a hidden window): the
        held loads start shortly after the last preview; normally the presenter has released
        them already, at the first image's paint."""
        if self._hold_loads and self._held and not any(
                w.tag[0] == "preview" and w.tag[2] == self._generation for w in self._workers.values()):
            QTimer.singleShot(RELEASE_FALLBACK_MS, self, self.release_loads)

    def close(self) -> None:
        """Close the open study (File > Close study): its workers are cancelled and forgotten (a
        late result or progress of theirs carries an old generation and is dropped), and the scan,
        loaded series and held loads are let go. The background warm-up goes on."""
        was_busy = self.busy
        for key, w in list(self._workers.items()):
            if w.tag[0] != "warm":
                w.cancel()
                del self._workers[key]
        self._forget_study([])
        self._labels.clear()
        self._hold_loads = self._thumbs_held = False
        if was_busy:
            self.sig_busy.emit(False)

    def _forget_study(self, paths: list[str]) -> None:
        """A new generation for ``paths`` (none: closed): the scan, loaded series and held loads of
        the study before are let go; results still on their way carry the old generation and are
        dropped."""
        self._generation += 1
        self.paths = paths
        self.loaded.clear()
        self._entries.clear()
        self._pending.clear()
        self._held.clear()
        self.result = None
        self.study_extras = {}

    @property
    def has_study(self) -> bool:
        """A study is open or being opened (from ``open_paths`` until ``close``)."""
        return bool(self.paths)

    def shutdown(self) -> None:
        self.cancel()
        self.pool.waitForDone(5000)
