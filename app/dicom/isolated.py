"""Run abort-capable decoders in a separate worker process (app.dicom.decode_worker).

One persistent worker is shared (requests are serialised by a lock); it is started on first use
and restarted after a crash, a timeout or a cancel. A crash or timeout is an IsolatedFailure
naming what happened; the main process never runs these decoders itself."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import numpy as np

from app.core.progress import Cancelled, CancelToken

DECODE_TIMEOUT_S = 120.0
_POLL_S = 0.1


class IsolatedFailure(Exception):
    """The isolated decoder failed, crashed or timed out; the text says which."""


def worker_command() -> list[str]:
    """How to start the decoder process: a frozen build (PyInstaller) runs its own executable with
    the hidden ``--decode-worker`` flag (app.cli), since it cannot run ``python -m``."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--decode-worker"]
    return [sys.executable, "-m", "app.dicom.decode_worker"]


class _Worker:
    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(worker_command(), cwd=root, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.lines.put(line)
        self.lines.put(None)  # the worker ended

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


_lock = threading.Lock()
_worker: _Worker | None = None


def _describe_exit(code: int | None) -> str:
    if code is not None and code < 0:
        import signal

        try:
            return f"crashed ({signal.Signals(-code).name})"
        except ValueError:
            return f"crashed (signal {-code})"
    return f"ended unexpectedly (exit code {code})"


def decode_isolated(path: Path, method: str, cancel: CancelToken | None = None,
                    timeout_s: float = DECODE_TIMEOUT_S) -> np.ndarray:
    """Decoded pixel array of ``path`` by ``method`` ("gdcm", "gdcm-reader" or "simpleitk") in the worker."""
    global _worker
    if cancel is not None and cancel.cancelled:
        raise Cancelled("cancelled by the user") from None
    with _lock:
        if _worker is None or _worker.proc.poll() is not None:
            _worker = _Worker()
        worker = _worker
        fd, out = tempfile.mkstemp(suffix=".npy", prefix="isthmus-decode-")
        os.close(fd)
        try:
            try:
                stdin = worker.proc.stdin
                assert stdin is not None  # the worker is started with stdin=PIPE
                stdin.write(json.dumps({"path": str(path), "method": method, "out": out}) + "\n")
                stdin.flush()
            except (BrokenPipeError, OSError) as exc:
                worker.stop()
                _worker = None
                raise IsolatedFailure(f"the decoder process {_describe_exit(worker.proc.poll())}") from exc
            waited = 0.0
            while True:
                try:
                    line = worker.lines.get(timeout=_POLL_S)
                    break
                except queue.Empty:
                    waited += _POLL_S
                    if cancel is not None and cancel.cancelled:
                        worker.stop()
                        _worker = None
                        raise Cancelled("cancelled by the user") from None
                    if waited >= timeout_s:
                        worker.stop()
                        _worker = None
                        raise IsolatedFailure(f"the decoder took longer than {timeout_s:.0f} s and was stopped") from None
            if line is None:
                code = worker.proc.wait(timeout=5)
                _worker = None
                raise IsolatedFailure(f"the decoder process {_describe_exit(code)} on this file")
            answer = json.loads(line)
            if not answer.get("ok"):
                raise IsolatedFailure(str(answer.get("error", "unknown error")))
            return np.load(out, allow_pickle=False)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(out)
