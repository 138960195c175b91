"""Level label tool: click a vertebral body to place a label.

The new label gets ``tool.level`` when set (a reader-named anchor), otherwise its name is
inferred from the other labels of the same series (``propagate_level_labels``: order along the
cranio-caudal axis). Naming or renaming one label with ``set_level_label`` re-infers all
inferred labels of the series in the same undo step, so "label L5, the others follow".
"""

from __future__ import annotations

from collections.abc import Sequence

from app.annotations.model import LevelLabel, propagate_level_labels
from app.annotations.store import AddAnnotation, AnnotationStore, MacroCommand, UpdateAnnotation
from app.annotations.tools.base import ClickTool


def _series_labels(store: AnnotationStore, series_instance_uid: str, like: LevelLabel) -> list[LevelLabel]:
    """Labels that can be ordered together with ``like``: same series, and on a projection
    image (no LPS) the same image."""
    out = []
    for a in store.of_kind(LevelLabel):
        if a.series_instance_uid != series_instance_uid:
            continue
        if not like.points_lps and a.image_key != like.image_key:
            continue
        out.append(a)
    return out


class LevelLabelTool(ClickTool):
    id = "level-label"
    title = "Level label"
    shortcut = "V"
    annotation_class = LevelLabel
    n_points = 1
    point_prompts = ("Level label: click a vertebral body",)

    level: str | None = None
    cranial_direction: Sequence[float] | None = None

    def _fields(self) -> dict:
        return {"level": self.level}

    def _add_point(self, p) -> None:
        ann = self._build([p])
        self._reset()
        self._set_preview(None)
        if not isinstance(ann, LevelLabel):
            return
        others = _series_labels(self.store, ann.series_instance_uid, ann)
        try:
            updated = propagate_level_labels([*others, ann], self.cranial_direction)
        except ValueError:
            updated = [*others, ann]  # contradictory anchors: add the label as drawn, rename nothing
        new_ann = updated[-1]
        cmds: list[AddAnnotation | UpdateAnnotation] = [AddAnnotation(new_ann)]
        cmds += [UpdateAnnotation(o, u) for o, u in zip(others, updated[:-1], strict=True) if o is not u]
        self.store.execute(cmds[0] if len(cmds) == 1 else MacroCommand(cmds, "add level label"))
        self.last_created = new_ann
        self.created.emit(new_ann)


def set_level_label(store: AnnotationStore, annotation_id: str, level: str | None,
                    cranial_direction: Sequence[float] | None = None) -> LevelLabel:
    """Name (or rename, or clear with None) one label as a reader anchor and re-infer the
    others of its series; one undo step. Raises LevelLabelConflict when the new name
    contradicts another anchor's name and order (nothing changes then)."""
    old = store[annotation_id]
    if not isinstance(old, LevelLabel):
        raise TypeError(f"annotation {annotation_id} is a {old.kind}, not a level label")
    new = old.touched(level=level, inferred=False)
    others = [a for a in _series_labels(store, old.series_instance_uid, old) if a.id != old.id]
    updated = propagate_level_labels([*others, new], cranial_direction)
    cmds = [UpdateAnnotation(old, updated[-1])]
    cmds += [UpdateAnnotation(o, u) for o, u in zip(others, updated[:-1], strict=True) if o is not u]
    store.execute(cmds[0] if len(cmds) == 1 else MacroCommand(cmds, "set level label"))
    return updated[-1]
