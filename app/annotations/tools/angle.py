"""Angle tool: three clicks, the middle one is the vertex."""

from app.annotations.model import Angle
from app.annotations.tools.base import ClickTool


class AngleTool(ClickTool):
    id = "angle"
    title = "Angle"
    shortcut = "A"
    annotation_class = Angle
    n_points = 3
    point_prompts = ("Angle: click a point on the first arm", "Angle: click the vertex",
                     "Angle: click a point on the second arm")
