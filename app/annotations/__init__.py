"""Annotations (no Qt): data model (model.py), undoable store (store.py), plain input events
(events.py), tools driven by those events (tools/), and annotation -> findings derivation
(derive.py). See docs/annotations.md."""

from app.annotations import spine as _spine  # noqa: F401 - registers the spino-pelvic / segment kinds
