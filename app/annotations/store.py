"""``AnnotationStore``: the annotations of one study, changed only through undoable commands.

    store = AnnotationStore()
    store.events.added.connect(on_added)         # (annotation)
    store.events.changed.connect(on_changed)     # (new, old)
    store.events.removed.connect(on_removed)     # (annotation)
    store.events.selection_changed.connect(...)  # (frozenset of ids)
    store.events.history_changed.connect(...)    # () can_undo / can_redo may have changed
    store.events.reset.connect(...)              # () everything replaced (load_doc / clear)

    store.add(annotation); store.update(new_annotation); store.remove(id)
    store.undo(); store.redo()

Every change goes through a command (``AddAnnotation``, ``UpdateAnnotation``,
``RemoveAnnotation``, ``MacroCommand``) pushed on ``store.history`` (app.core.history.History):
the study's one undo history, shared with the session's table/context/impression edits when
the session passes its own (``AnnotationStore(history=session.history)``). ``undo()`` /
``redo()`` here step that history. ``preview_update`` changes an annotation *without* an undo entry (handle drags): the tool
then commits one ``UpdateAnnotation(before, after)`` on release, or ``revert_preview``.
Selection is view state: it is not undoable. ``events.inserted`` is an alias of ``added``.

``to_doc()`` / ``load_doc(doc)`` / ``AnnotationStore.from_doc(doc)``: a JSON-able document
{"format": "isthmus-annotations", "version": 1, "annotations": [...]}; bad entries are
skipped and listed in ``store.load_problems``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from app.annotations.model import Annotation, AnnotationDataError, annotation_from_dict
from app.core.events import EventGroup
from app.core.history import History

AnnT = TypeVar("AnnT", bound=Annotation)

__all__ = [
    "DOC_FORMAT",
    "DOC_VERSION",
    "AddAnnotation",
    "AnnotationDocError",
    "AnnotationStore",
    "Command",
    "MacroCommand",
    "RemoveAnnotation",
    "StoreStep",
    "UpdateAnnotation",
]

DOC_FORMAT = "isthmus-annotations"
DOC_VERSION = 1


class AnnotationDocError(ValueError):
    """An annotations document that cannot be read at all (wrong format or version)."""


# =========================================================================== commands

class Command:
    """An undoable change. ``do`` is called on execute and on redo, ``undo`` reverts it."""

    text: str = ""

    def do(self, store: AnnotationStore) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def undo(self, store: AnnotationStore) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class AddAnnotation(Command):
    def __init__(self, annotation: Annotation):
        self.annotation = annotation
        self.text = f"add {annotation.title.lower()}"

    def do(self, store: AnnotationStore) -> None:
        store._insert(self.annotation)

    def undo(self, store: AnnotationStore) -> None:
        store._delete(self.annotation.id)


class UpdateAnnotation(Command):
    def __init__(self, before: Annotation, after: Annotation):
        if before.id != after.id:
            raise ValueError("an update must keep the annotation id")
        self.before = before
        self.after = after
        self.text = f"edit {after.title.lower()}"

    def do(self, store: AnnotationStore) -> None:
        store._replace(self.after)

    def undo(self, store: AnnotationStore) -> None:
        store._replace(self.before)


class RemoveAnnotation(Command):
    def __init__(self, annotation: Annotation):
        self.annotation = annotation
        self.index: int | None = None
        self.text = f"delete {annotation.title.lower()}"

    def do(self, store: AnnotationStore) -> None:
        self.index = store._delete(self.annotation.id)

    def undo(self, store: AnnotationStore) -> None:
        store._insert(self.annotation, index=self.index)


class MacroCommand(Command):
    """Several commands as one undo step (undone in reverse order)."""

    def __init__(self, commands: Sequence[Command], text: str = ""):
        self.commands = list(commands)
        self.text = text or ", ".join(c.text for c in self.commands)

    def do(self, store: AnnotationStore) -> None:
        for c in self.commands:
            c.do(store)

    def undo(self, store: AnnotationStore) -> None:
        for c in reversed(self.commands):
            c.undo(store)


class StoreStep:
    """A store command as a step of the shared History (``redo``/``undo`` without arguments)."""

    def __init__(self, store: AnnotationStore, command: Command):
        self.store = store
        self.command = command

    @property
    def text(self) -> str:
        return self.command.text

    def redo(self) -> None:
        self.command.do(self.store)

    def undo(self) -> None:
        self.command.undo(self.store)


# =========================================================================== store

class AnnotationStore:
    def __init__(self, annotations: Iterable[Annotation] = (), history: History | None = None):
        self.events = EventGroup("added", "changed", "removed", "selection_changed", "history_changed", "reset")
        self.events.inserted = self.events.added  # alias (napari-style name)
        self._items: dict[str, Annotation] = {}
        self.history = history if history is not None else History()
        self.history.changed.connect(self.events.history_changed.emit)
        self._selection: frozenset[str] = frozenset()
        self._preview_base: dict[str, Annotation] = {}
        self.load_problems: list[str] = []
        for a in annotations:
            self._items[a.id] = a

    # ------------------------------------------------------------------ reading
    def __iter__(self) -> Iterator[Annotation]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: str | Annotation) -> bool:
        key = item.id if isinstance(item, Annotation) else item
        return key in self._items

    def get(self, annotation_id: str) -> Annotation | None:
        return self._items.get(annotation_id)

    def __getitem__(self, annotation_id: str) -> Annotation:
        return self._items[annotation_id]

    @property
    def annotations(self) -> tuple[Annotation, ...]:
        return tuple(self._items.values())

    def on_image(self, series_instance_uid: str, sop_instance_uid: str, frame: int | None = None) -> list[Annotation]:
        """Annotations drawn on one image (frame None matches single-frame images)."""
        key = (series_instance_uid, sop_instance_uid, frame)
        return [a for a in self._items.values() if a.image_key == key]

    def of_kind(self, *types: type[AnnT]) -> list[AnnT]:
        return [a for a in self._items.values() if isinstance(a, types)]

    # ------------------------------------------------------------------ changing (undoable)
    def execute(self, command: Command) -> Command:
        """Apply ``command`` and push it on the history (clears redo)."""
        self.history.push(StoreStep(self, command))
        return command

    def _last_add(self, annotation_id: str) -> AddAnnotation | None:
        top = self.history.top()
        if (isinstance(top, StoreStep) and top.store is self and isinstance(top.command, AddAnnotation)
                and top.command.annotation.id == annotation_id and annotation_id in self._items):
            return top.command
        return None

    def add(self, annotation: Annotation) -> Annotation:
        if annotation.id in self._items:
            raise ValueError(f"annotation {annotation.id} is already in the store")
        self.execute(AddAnnotation(annotation))
        return annotation

    def update(self, annotation: Annotation) -> Annotation:
        """Replace the stored annotation with the same id (no-op when equal)."""
        current = self._require(annotation.id)
        before = self._preview_base.pop(annotation.id, current)
        if before == annotation:
            if current != annotation:  # a preview that ended where it started
                self._replace(annotation)
            return annotation
        self.execute(UpdateAnnotation(before, annotation))
        return annotation

    def remove(self, annotation_id: str) -> None:
        self.execute(RemoveAnnotation(self._require(annotation_id)))

    def remove_many(self, annotation_ids: Iterable[str]) -> None:
        cmds = [RemoveAnnotation(self._require(i)) for i in dict.fromkeys(annotation_ids)]
        if cmds:
            self.execute(cmds[0] if len(cmds) == 1 else MacroCommand(cmds, f"delete {len(cmds)} annotations"))

    def update_many(self, annotations: Iterable[Annotation], text: str = "") -> None:
        cmds = []
        for a in annotations:
            before = self._require(a.id)
            if before != a:
                cmds.append(UpdateAnnotation(before, a))
        if cmds:
            self.execute(cmds[0] if len(cmds) == 1 else MacroCommand(cmds, text))

    def replace_last_add(self, annotation: Annotation) -> bool:
        """Fold an update of the annotation added by the *last* command into that add, so that a
        multi-step drawing stays one undo step. Returns False (nothing done) otherwise."""
        cmd = self._last_add(annotation.id)
        if cmd is None:
            return False
        cmd.annotation = annotation
        self._replace(annotation)
        return True

    def discard_last_add(self, annotation_id: str) -> bool:
        """Take back the last command if it added ``annotation_id`` (no redo entry): for a
        creation popup that was cancelled. Returns False (nothing done) otherwise."""
        if self._last_add(annotation_id) is None:
            return False
        self._delete(annotation_id)
        self.history.discard_top()
        return True

    # ------------------------------------------------------------------ transient previews
    def preview_update(self, annotation: Annotation) -> None:
        """Show a changed annotation (``changed`` fires) without an undo entry. Follow with
        ``update(final)`` (one undo step from the pre-preview state) or ``revert_preview(id)``."""
        self._preview_base.setdefault(annotation.id, self._require(annotation.id))
        self._replace(annotation)

    def revert_preview(self, annotation_id: str) -> None:
        base = self._preview_base.pop(annotation_id, None)
        if base is not None and annotation_id in self._items:
            self._replace(base)

    # ------------------------------------------------------------------ undo / redo (the shared history)
    @property
    def can_undo(self) -> bool:
        return self.history.can_undo

    @property
    def can_redo(self) -> bool:
        return self.history.can_redo

    @property
    def undo_text(self) -> str:
        return self.history.undo_text

    @property
    def redo_text(self) -> str:
        return self.history.redo_text

    def undo(self) -> bool:
        self._revert_all_previews()
        return self.history.undo()

    def redo(self) -> bool:
        self._revert_all_previews()
        return self.history.redo()

    def clear_history(self) -> None:
        self.history.clear()

    def _revert_all_previews(self) -> None:
        for aid in list(self._preview_base):
            self.revert_preview(aid)

    # ------------------------------------------------------------------ selection (not undoable)
    @property
    def selection(self) -> frozenset[str]:
        return self._selection

    def select(self, annotation_ids: Iterable[str], add: bool = False) -> None:
        ids = frozenset(i for i in annotation_ids if i in self._items)
        new = (self._selection | ids) if add else ids
        self._set_selection(new)

    def toggle_selection(self, annotation_id: str) -> None:
        if annotation_id in self._selection:
            self._set_selection(self._selection - {annotation_id})
        elif annotation_id in self._items:
            self._set_selection(self._selection | {annotation_id})

    def clear_selection(self) -> None:
        self._set_selection(frozenset())

    def _set_selection(self, ids: frozenset[str]) -> None:
        if ids != self._selection:
            self._selection = ids
            self.events.selection_changed.emit(ids)

    # ------------------------------------------------------------------ primitive edits (commands only)
    def _require(self, annotation_id: str) -> Annotation:
        try:
            return self._items[annotation_id]
        except KeyError:
            raise KeyError(f"no annotation with id {annotation_id}") from None

    def _insert(self, annotation: Annotation, index: int | None = None) -> None:
        if index is None or index >= len(self._items):
            self._items[annotation.id] = annotation
        else:
            items = list(self._items.items())
            items.insert(index, (annotation.id, annotation))
            self._items = dict(items)
        self.events.added.emit(annotation)

    def _replace(self, annotation: Annotation) -> None:
        old = self._require(annotation.id)
        self._items[annotation.id] = annotation
        self.events.changed.emit(annotation, old)

    def _delete(self, annotation_id: str) -> int:
        keys = list(self._items)
        index = keys.index(annotation_id)
        old = self._items.pop(annotation_id)
        self._preview_base.pop(annotation_id, None)
        if annotation_id in self._selection:
            self._set_selection(self._selection - {annotation_id})
        self.events.removed.emit(old)
        return index

    # ------------------------------------------------------------------ documents
    def to_doc(self) -> dict:
        """JSON-able document of the current annotations (previews are saved as committed)."""
        return {"format": DOC_FORMAT, "version": DOC_VERSION, "annotations": [a.to_dict() for a in self.saved_items()]}

    def saved_items(self) -> tuple[Annotation, ...]:
        """The annotations as ``to_doc`` saves them (immutable: safe to serialise in another thread)."""
        return tuple(self._preview_base.get(a.id, a) for a in self._items.values())

    def load_doc(self, doc: dict) -> list[str]:
        """Replace everything with the document's annotations; clears undo history and selection.
        Bad entries are skipped; their problems are returned (and kept in ``load_problems``)."""
        annotations, problems = _parse_doc(doc)
        self._preview_base.clear()
        self._items = {a.id: a for a in annotations}
        self._selection = frozenset()
        self.load_problems = problems
        self.events.reset.emit()
        self.events.selection_changed.emit(self._selection)
        self.history.clear()
        return problems

    @classmethod
    def from_doc(cls, doc: dict) -> AnnotationStore:
        annotations, problems = _parse_doc(doc)
        store = cls(annotations)
        store.load_problems = problems
        return store


def _parse_doc(doc: dict) -> tuple[list[Annotation], list[str]]:
    if not isinstance(doc, dict):
        raise AnnotationDocError(f"annotations document must be an object, got {type(doc).__name__}")
    if doc.get("format") != DOC_FORMAT:
        raise AnnotationDocError(f"not an annotations document (format {doc.get('format')!r})")
    version = doc.get("version")
    if not isinstance(version, int) or version > DOC_VERSION:
        raise AnnotationDocError(f"annotations document version {version!r} is not supported (max {DOC_VERSION})")
    entries = doc.get("annotations", [])
    if not isinstance(entries, list):
        raise AnnotationDocError("annotations document: 'annotations' must be a list")
    out: list[Annotation] = []
    problems: list[str] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        try:
            a = annotation_from_dict(entry)
        except AnnotationDataError as exc:
            problems.append(f"annotation #{i + 1} skipped: {exc}")
            continue
        if a.id in seen:
            problems.append(f"annotation #{i + 1} skipped: duplicate id {a.id}")
            continue
        seen.add(a.id)
        out.append(a)
    return out, problems
