"""app.core.events: connect/disconnect/emit, weak bound methods, blocking."""

import gc

from app.core.events import Event, EventGroup


def test_connect_emit_disconnect():
    got = []
    s = Event("x")
    cb = s.connect(lambda *a: got.append(a))
    s.emit(1, 2)
    assert got == [(1, 2)]
    s.connect(cb)  # duplicate is a no-op
    s.emit(3)
    assert got == [(1, 2), (3,)]
    s.disconnect(cb)
    s.emit(4)
    assert got == [(1, 2), (3,)]
    assert len(s) == 0


def test_blocked_context_nests():
    got = []
    s = Event()
    s.connect(got.append)
    with s.blocked():
        s.emit(1)
        with s.blocked():
            s.emit(2)
        s.emit(3)
    s.emit(4)
    assert got == [4]


def test_bound_methods_are_weak():
    class Listener:
        def __init__(self):
            self.got = []

        def on(self, v):
            self.got.append(v)

    s = Event()
    obj = Listener()
    s.connect(obj.on)
    s.emit(1)
    assert obj.got == [1]
    del obj
    gc.collect()
    s.emit(2)  # no error, dead slot dropped
    assert len(s) == 0


def test_signal_group_blocks_all():
    g = EventGroup("a", "b")
    got = []
    g.a.connect(lambda: got.append("a"))
    g.b.connect(lambda: got.append("b"))
    with g.blocked():
        g.a.emit()
        g.b.emit()
    g.b.emit()
    assert got == ["b"]
    assert g.names == ("a", "b")


def test_connecting_forgets_methods_of_objects_that_are_gone():
    """A long-lived event connected to by one short-lived object per study must not keep one
    dead reference per study for good."""
    import gc

    from app.core.events import Event

    class Panel:
        def on_change(self, *_args):
            pass

    ev = Event("changed")
    for _ in range(50):
        p = Panel()
        ev.connect(p.on_change)
        del p
        gc.collect()
    assert len(ev._slots) == 1
    assert len(ev) == 0
