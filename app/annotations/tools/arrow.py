"""Arrow-with-text tool: click the arrow tip, then the text position (or drag tip -> text).

The text is ``tool.text`` at creation (default empty); the UI asks for it after ``created``
and sets it with ``set_annotation_text(store, id, text)`` (folded into the same undo step when
nothing else happened in between)."""

from app.annotations.model import ArrowText
from app.annotations.store import AnnotationStore
from app.annotations.tools.base import ClickTool


class ArrowTextTool(ClickTool):
    id = "arrow-text"
    title = "Arrow with text"
    shortcut = "T"
    annotation_class = ArrowText
    n_points = 2
    drag_adds_segment = True
    point_prompts = ("Arrow: click the arrow tip", "Arrow: click where the text goes")
    text = ""

    def _fields(self) -> dict:
        return {"label": self.text}


def set_annotation_text(store: AnnotationStore, annotation_id: str, text: str):
    """Set the label/text of an annotation (one undo step with its creation when just added)."""
    ann = store[annotation_id].touched(label=text)
    if not store.replace_last_add(ann):
        store.update(ann)
    return ann
