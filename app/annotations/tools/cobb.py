"""Cobb angle tool: two lines = four clicks (each line may also be one drag)."""

from app.annotations.model import CobbAngle
from app.annotations.tools.base import ClickTool


class CobbTool(ClickTool):
    id = "cobb"
    title = "Cobb angle"
    shortcut = "C"
    annotation_class = CobbAngle
    n_points = 4
    drag_adds_segment = True
    point_prompts = ("Cobb: first endplate, first point", "Cobb: first endplate, second point",
                     "Cobb: second endplate, first point", "Cobb: second endplate, second point")
