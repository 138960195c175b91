"""Annotation tools on the images of the Qt workstation (see docs/annotations.md, "UI adapter").

    from app.ui.annotations import install_annotation_layer
    install_annotation_layer(main_window)      # -> window.annotations (AnnotationWorkspace)

Modules: ``items`` (one QGraphicsItem class per annotation kind, ``ITEM_CLASSES``; where an
annotation shows in a view is app.viewer.annotation_view, Qt-free), ``tool_driver`` (``ToolDriver``: SliceView events ->
tools, previews, popups), ``popups`` (pars marker / arrow text / level label), ``workspace`` (menus, toolbar, session + review
dock, items per view, Edit > Undo over the session's one history).
"""

from app.ui.annotations import items_spine as _items_spine  # noqa: F401 - registers the spine tools' items
from app.ui.annotations.items import ITEM_CLASSES, AnnotationItem, make_item
from app.ui.annotations.workspace import AnnotationWorkspace, install_annotation_layer

__all__ = ["ITEM_CLASSES", "AnnotationItem", "AnnotationWorkspace", "install_annotation_layer", "make_item"]
