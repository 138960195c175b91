"""Open the database file and decide whether it can be used; move an unusable one aside.

Unusable means: not a database (garbage, a truncated header), damaged pages (``PRAGMA
quick_check`` of the tables the study list reads), an existing file without our tables
(truncated to nothing), or a schema newer than this version reads. Such a file is renamed
``<name>.unreadable-<UTC time>`` (with its -wal/-shm files), never deleted. A file locked by
another program beyond the busy timeout is sound: that is :class:`StudyDbBusy`, and the file is
left alone (moving it aside would pull it from under the other program's writes and lose them)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from pathlib import Path

from app.studydb.rows import StudyDbBusy
from app.studydb.schema import SCHEMA_VERSION, migrate, user_version

# Checked page by page at every open: what the study list shows (milliseconds even at 50,000
# instances; the whole file took ~100 ms there). Damage in the instance table is found when it is
# read, and recovered the same way (StudyDatabase._guarded).
CHECKED_AT_OPEN = ("patient", "study", "series")


class Unusable(Exception):
    """The database file cannot be used; str() says why in plain words."""


def connect(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def open_checked(path: Path, busy_timeout_s: float) -> sqlite3.Connection:
    """A connection to ``path`` at the current schema, or :class:`Unusable`."""
    existed = path.exists() and path.stat().st_size > 0
    was_there = path.exists()
    conn = connect(path, busy_timeout_s)
    try:
        found = user_version(conn)
        if found > SCHEMA_VERSION:
            raise Unusable(f"it was written by a newer Isthmus (schema version {found}; this version reads up to "
                           f"{SCHEMA_VERSION})")
        if was_there and not existed:
            raise Unusable("the file is empty (truncated)")
        if found == 0 and existed and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
            raise Unusable("it holds no study tables (truncated or overwritten)")
        if existed and found > 0:
            for table in CHECKED_AT_OPEN:
                check = conn.execute(f"PRAGMA quick_check({table})").fetchall()
                if [tuple(r) for r in check] != [("ok",)]:
                    raise Unusable(f"it is damaged ({'; '.join(str(r[0]) for r in check[:3])})")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise Unusable(f"it cannot be switched to write-ahead logging (journal mode stays {mode})")
        migrate(conn)
    except Unusable:
        conn.close()
        raise
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise busy_error(path, busy_timeout_s) from exc
        raise Unusable(f"it cannot be read ({exc})") from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        what = "it is damaged" if "malformed" in str(exc) else "it is not a readable database"
        raise Unusable(f"{what} ({exc})") from exc
    return conn


def busy_error(path: Path, busy_timeout_s: float) -> StudyDbBusy:
    return StudyDbBusy(f"The study database {path} is busy: another program (another Isthmus window or "
                       f"'isthmus db import') held it locked for more than {busy_timeout_s:g} s. Nothing was "
                       f"changed; try again in a moment.")


def move_aside(path: Path) -> Path:
    """Rename the database (and its -wal/-shm files) to ``<name>.unreadable-<UTC time>``."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.unreadable-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.unreadable-{stamp}-{n}")
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        extra = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.replace(extra, target.with_name(target.name + suffix))
    return target
