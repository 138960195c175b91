"""PathwayPanel: shows the latest PathwayResult of a StudySession, with its sources.

Top to bottom: the decision-support disclaimer (always visible, outside the scroll area),
management tier badge, RED FLAGS, stage summary, the ordered plan (each suggestion with a
"why?" expander: rules, rationale, facts used, citations, disputed thresholds with their
alternatives), criteria checklists (✓ met / ✗ unmet / ? unknown), cautions, missing data that
would change the suggestion, expected union per pars with its cohort, and the ruleset version.

The panel only displays: it never decides. The rich text comes from app.pathway.html (Qt-free);
on ``session.pathway_changed`` the panel renders the new result there and updates its widgets
in place, one per block: only the blocks whose text changed are touched (a new widget tree,
re-polished by the style sheet, took 70-140 ms per finding edit).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.pathway.html import (
    AMBER,
    DEFAULT_DISCLAIMER,
    GREY,
    MUTED,
    RED,
    STATUS_MARK,
    TIER_COLOURS,
    Block,
    PathwayView,
    esc,
    render_view,
)

__all__ = ["AMBER", "DEFAULT_DISCLAIMER", "GREY", "RED", "STATUS_MARK", "TIER_COLOURS", "PathwayPanel",
           "RecommendationItem"]

RENDER_INTERVAL_MS = 120  # redraw throttle while results change quickly


def _label(text: str, parent: QWidget, *, rich: bool = True, style: str = "", name: str = "") -> QLabel:
    lab = QLabel(parent)
    lab.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    lab.setText(text)
    lab.setWordWrap(True)
    lab.setOpenExternalLinks(True)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    lab.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    if style:
        lab.setStyleSheet(style)
    if name:
        lab.setObjectName(name)
    return lab


class _Body(QWidget):
    """Scroll-area content whose height follows its width (word-wrapped labels), instead of
    the tall minimum Qt computes at the narrowest width (which leaves empty space below)."""

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(hint.width(), 0)


class RecommendationItem(QFrame):
    """One step of the plan with a "why?" expander (updated in place by ``show_block``)."""

    def __init__(self, block: Block, parent: QWidget) -> None:
        super().__init__(parent)
        self.block = block
        self.rec = block.rec
        self.setObjectName("recommendation")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.setSpacing(2)
        row = QHBoxLayout()
        self.text_label = _label(block.html, self)
        row.addWidget(self.text_label, 1)
        self.why_button = QToolButton(self)
        self.why_button.setText("why?")
        self.why_button.setCheckable(True)
        self.why_button.setToolTip("Show the rule, the facts it used, the rationale and the sources")
        self.why_button.toggled.connect(self.set_expanded)
        row.addWidget(self.why_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addLayout(row)
        self.details = _label(block.details, self, name="whyDetails",
                              style="background:#1f2326; border-left: 3px solid #5c6bc0; padding: 4px;")
        self.details.setVisible(False)
        lay.addWidget(self.details)

    @property
    def rec_id(self) -> str:
        return getattr(self.rec, "id", "")

    def show_block(self, block: Block) -> None:
        if block.html != self.block.html:
            self.text_label.setText(block.html)
        if block.details != self.block.details:
            self.details.setText(block.details)
        self.block, self.rec = block, block.rec

    def set_expanded(self, on: bool) -> None:
        if self.why_button.isChecked() != on:
            self.why_button.setChecked(on)
            return
        self.details.setVisible(on)
        self.why_button.setText("hide" if on else "why?")


def _show_block(lab: QLabel, old: Block | None, block: Block) -> None:
    """Bring a label from ``old`` to ``block``, touching only what changed (a style sheet change
    re-polishes the widget: the expensive part)."""
    if old is None or block.html != old.html:
        lab.setText(block.html)
    if old is None or block.style != old.style:
        lab.setStyleSheet(block.style)
    if old is None or block.tooltip != old.tooltip:
        lab.setToolTip(block.tooltip)
    if old is None or block.name != old.name:
        lab.setObjectName(block.name)
    if block.kind == "label" and block.name == "redFlag":
        lab.setProperty("severity", block.key)


class PathwayPanel(QWidget):
    """Read-only view of ``session.pathway_result`` (see module docstring)."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PathwayPanel")
        self.session = session
        self._expanded: set[str] = set()
        self.red_flag_labels: list[QLabel] = []
        self.recommendation_items: list[RecommendationItem] = []
        self.section_labels: dict[str, QLabel] = {}
        self._widgets: list[tuple[Block, QWidget]] = []  # one per shown block, in order

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        self.disclaimer_label = _label(esc(DEFAULT_DISCLAIMER), self, name="disclaimer", style=(
            "background:#3e2f00; color:#ffd54f; border:1px solid #ffb300; padding:5px; font-weight:bold;"))
        lay.addWidget(self.disclaimer_label)

        head = QHBoxLayout()
        self.tier_badge = QLabel("", self)
        self.tier_badge.setObjectName("tierBadge")
        self.tier_badge.setWordWrap(True)  # a long headline wraps instead of widening the dock
        head.addWidget(self.tier_badge, 0)
        self.tier_rules_label = _label("", self, style=f"color:{MUTED}")
        head.addWidget(self.tier_rules_label, 1)
        lay.addLayout(head)

        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = _Body()
        self.body.setObjectName("pathwayBody")
        self._body_layout = QVBoxLayout(self.body)
        self._body_layout.setSizeConstraint(QVBoxLayout.SizeConstraint.SetNoConstraint)
        self._body_layout.setContentsMargins(2, 2, 2, 2)
        self._body_layout.setSpacing(3)
        self._body_layout.addStretch(1)
        self.scroll.setWidget(self.body)
        lay.addWidget(self.scroll, 1)
        self.footer_label = _label("", self, style=f"color:{MUTED}; font-size: 9pt;", name="rulesetVersion")
        lay.addWidget(self.footer_label)

        self.result: Any = None
        self.view: PathwayView | None = None
        self.blocks_updated = 0  # widgets created or changed by the last update (tests, bench)
        self._shown: Any = ("nothing shown yet",)
        self._last_render = 0.0
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self.flush)
        session.pathway_changed.connect(self._on_pathway_changed)
        self.flush()

    # ------------------------------------------------------------------ scheduling
    def _on_pathway_changed(self, *_: Any) -> None:
        """Redraw soon: at once when idle, at most every RENDER_INTERVAL_MS during bursts
        (dragging a landmark), and only when visible (a hidden tab redraws when shown)."""
        if not self.isVisible():
            return  # showEvent renders
        wait_ms = RENDER_INTERVAL_MS - (time.monotonic() - self._last_render) * 1000.0
        if not self._render_timer.isActive():
            self._render_timer.start(max(0, int(wait_ms)))

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.flush()

    def flush(self) -> None:
        """Draw the session's current result now, if it differs from what is shown."""
        self._render_timer.stop()
        result = getattr(self.session, "pathway_result", None)
        error = getattr(self.session, "pathway_error", "")
        key = (result, error)
        if key == self._shown:
            return
        self._shown = key
        self._last_render = time.monotonic()
        self.result = result
        self._show_view(render_view(result, error, getattr(self.session, "last_evaluate_ms", None)))

    # ------------------------------------------------------------------ rendering
    def _show_view(self, view: PathwayView) -> None:
        old = self.view
        self.view = view
        if old is None or view.disclaimer != old.disclaimer:
            self.disclaimer_label.setText(view.disclaimer)
        if old is None or view.tier_html != old.tier_html:
            self.tier_badge.setText(view.tier_html)
        if old is None or view.tier_style != old.tier_style:
            self.tier_badge.setStyleSheet(view.tier_style)
        self.tier_badge.setProperty("tier", view.tier)
        self.tier_badge.setToolTip(view.tier_tooltip)
        self.tier_badge.setVisible(bool(view.tier))
        self.tier_rules_label.setText(view.tier_rules_text)
        if old is None or view.footer != old.footer:
            self.footer_label.setText(view.footer)
        for _, w in self._widgets:
            if isinstance(w, RecommendationItem):
                (self._expanded.add if w.why_button.isChecked() else self._expanded.discard)(w.rec_id)
        self.blocks_updated = 0
        for i, block in enumerate(view.blocks):
            self._show_block_at(i, block)
        for _, w in self._widgets[len(view.blocks):]:
            self._body_layout.removeWidget(w)
            w.hide()
            w.deleteLater()
        del self._widgets[len(view.blocks):]
        self.red_flag_labels = [w for b, w in self._widgets if b.name == "redFlag" and isinstance(w, QLabel)]
        self.recommendation_items = [w for _, w in self._widgets if isinstance(w, RecommendationItem)]
        self.section_labels = {b.key: w for b, w in self._widgets if b.kind == "heading" and isinstance(w, QLabel)}

    def _show_block_at(self, i: int, block: Block) -> None:
        if i < len(self._widgets):
            old, w = self._widgets[i]
            if old == block:
                return
            if old.kind == block.kind:
                self.blocks_updated += 1
                if isinstance(w, RecommendationItem):
                    w.show_block(block)
                    w.set_expanded(w.rec_id in self._expanded)
                elif isinstance(w, QLabel):
                    _show_block(w, old, block)
                self._widgets[i] = (block, w)
                return
            self._body_layout.removeWidget(w)
            w.hide()
            w.deleteLater()
        new = self._make(block)
        self.blocks_updated += 1
        self._body_layout.insertWidget(i, new)
        new.show()  # now, not in a later event-loop turn (the layout would queue it)
        if i < len(self._widgets):
            self._widgets[i] = (block, new)
        else:
            self._widgets.append((block, new))

    def _make(self, block: Block) -> QWidget:
        if block.kind == "recommendation":
            item = RecommendationItem(block, self.body)
            if item.rec_id in self._expanded:
                item.set_expanded(True)
            return item
        lab = _label("", self.body)
        _show_block(lab, None, block)
        return lab

    # ------------------------------------------------------------------ queries for tests / hosts
    def item_for(self, rec_id: str) -> RecommendationItem | None:
        for item in self.recommendation_items:
            if item.rec_id == rec_id:
                return item
        return None

    def all_text(self) -> str:
        """Every visible label's text (plain), for tests and copy-out."""
        texts = [self.disclaimer_label.text(), self.tier_badge.text()]
        for _, w in self._widgets:
            labels = [w] if isinstance(w, QLabel) else w.findChildren(QLabel)
            texts.extend(lab.text() for lab in labels if lab.isVisibleTo(self))
        return "\n".join(texts)

    # ------------------------------------------------------------------ cleanup
    def cleanup(self) -> None:
        with contextlib.suppress(Exception):
            self.session.pathway_changed.disconnect(self._on_pathway_changed)

    def closeEvent(self, event: Any) -> None:
        self.cleanup()
        super().closeEvent(event)
