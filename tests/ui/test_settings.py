"""Settings are plain values in a plain ini file: nothing pickled, nothing unpickled (issue 9)."""

from __future__ import annotations

import pickle

import pytest
from PySide6.QtCore import QByteArray


def test_settings_file_holds_only_plain_text_values(tmp_path):
    from app.ui.settings import Settings

    s = Settings(tmp_path / "settings.ini")
    s.set("window/geometry", QByteArray(b"\x01\x02\xff"))
    s.set("viewer/layout", "pars")
    s.set("viewer/anonymise", True)
    s.add_recent([str(tmp_path)])
    s.sync()
    text = (tmp_path / "settings.ini").read_text()
    assert "@Variant" not in text and "@ByteArray" not in text
    again = Settings(tmp_path / "settings.ini")
    assert bytes(again.geometry()) == b"\x01\x02\xff"
    assert again.get("viewer/layout", "x") == "pars" and again.get("viewer/anonymise", False) is True
    assert again.recent() == [[str(tmp_path.resolve())]]


def test_objects_are_refused_and_a_pickled_entry_is_never_loaded(tmp_path):
    from app.ui.settings import Settings

    s = Settings(tmp_path / "settings.ini")
    with pytest.raises(TypeError, match="plain values"):
        s.set("viewer/thing", object())
    payload = pickle.dumps({"evil": 1}).hex()
    (tmp_path / "old.ini").write_text(f"[viewer]\nlayout=@Variant(\\0\\0\\0\\x7f{payload})\nsync_scroll=true\n")
    old = Settings(tmp_path / "old.ini")
    assert old.get("viewer/layout", "pars") == "pars"  # unreadable -> the default, no unpickling
    assert old.get("viewer/sync_scroll", False) is True
