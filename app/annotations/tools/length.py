"""Length tool: two clicks (or one press-drag-release)."""

from app.annotations.model import Length
from app.annotations.tools.base import ClickTool


class LengthTool(ClickTool):
    id = "length"
    title = "Length"
    shortcut = "L"
    annotation_class = Length
    n_points = 2
    drag_adds_segment = True
    point_prompts = ("Length: click the start point", "Length: click the end point")
