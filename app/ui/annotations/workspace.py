"""AnnotationWorkspace: the annotation tools, items, findings dock and Edit menu of a MainWindow.

``install_annotation_layer(window)`` (one call at the end of ``MainWindow.__init__``):

* every SliceView of ``window.grid`` gets the ``ToolDriver`` as its tool hook and key
  filter, and one item per annotation (``items.ITEM_CLASSES``) under its ``annotation_layer``;
* when the presenter makes a patient's study active, a ``StudySession`` is created for it
  (``StudyInfo`` of its images: identity, modalities, age/sex; its autosave restored or set
  aside with a notice) and shown in the review dock (``make_review_dock``). When another
  folder starts loading, or another patient is chosen, the current session is flushed and
  closed and the dock is emptied *in the same event-loop turn* ("Loading ..."); the dock
  itself (built in steps, once loading is idle) is app.ui.annotations.review_host;
* an "Annotate" menu and toolbar built from ``ToolRegistry`` (checkable, in the viewer's
  exclusive mode group: picking W/L or Pan leaves the annotation tool);
* Edit > Undo (Ctrl+Z), Redo (Ctrl+Shift+Z, Ctrl+Y) over the session's one ``history``
  (drawings, table, context and impression edits in the order they happened) and Delete
  (selected annotations, active while the focus is in the viewer grid);
* the autosave status in the status bar ("Autosave: saved 12:03:41"; red when a save fails).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMessageBox, QToolBar

from app.annotations.model import Annotation, EllipseROI, FreehandROI, ParsMarker
from app.annotations.store import AnnotationStore
from app.annotations.tools import ToolRegistry
from app.findings.derive import edema_signal_ratio
from app.ui.actions import make_action
from app.ui.annotations.items import AnnotationItem, make_item
from app.ui.annotations.review_host import ReviewDockHost
from app.ui.annotations.tool_driver import ToolDriver
from app.viewer.actions import EDIT_ACTIONS, ROI_ROLE_TITLES, TOOLBAR_ORDER, annotate_actions
from app.viewer.annotation_view import ViewMapper

if TYPE_CHECKING:  # the session module (and the pathway engine under it) is imported after the first image
    from app.session import StudySession

log = logging.getLogger(__name__)

def resolve_shortcuts(registry: ToolRegistry, taken: set[str]) -> dict[str, str]:
    """Each tool's default key when the window does not use it already, else Shift+key,
    Alt+key or Alt+Shift+key (the viewer's single-key shortcuts come first)."""
    taken = {QKeySequence(s).toString() for s in taken}
    out: dict[str, str] = {}
    for spec in registry:
        if not spec.shortcut:
            continue
        for cand in (spec.shortcut, f"Shift+{spec.shortcut}", f"Alt+{spec.shortcut}", f"Alt+Shift+{spec.shortcut}"):
            text = QKeySequence(cand).toString()
            if text not in taken:
                out[spec.id] = text
                taken.add(text)
                break
    return out


def roi_ratio_text(store: AnnotationStore | None, ann: Annotation) -> str:
    """Beside an edema ROI: "ratio 2.31 to reference", or why there is none (the rule of
    app.findings.derive.edema_signal_ratio, the same that fills the findings)."""
    if store is None or not isinstance(ann, (EllipseROI, FreehandROI)) or ann.role != "edema":
        return ""
    ratio, problem = edema_signal_ratio(ann, store)
    return f"ratio {ratio:.2f} to reference" if ratio is not None else problem


def unfinished_markers_text(n: int) -> str:
    return (f"{n} pars marker{'s were' if n > 1 else ' was'} placed before Isthmus last closed but not "
            "described (level, side, status). Shown as \"pars ?\", not in the findings: double-click "
            f"{'each' if n > 1 else 'it'} with Select to describe it, or delete it.")


class AnnotationWorkspace(QObject):
    sig_dock_ready = Signal(object)
    def __init__(self, window: Any, registry: ToolRegistry | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.grid = window.grid
        self.state = window.state
        self.registry = registry or ToolRegistry.default()
        self.session: StudySession | None = None
        self._study_findings_offer: Any = None
        self.store: AnnotationStore | None = None
        self.review = ReviewDockHost(window, lambda: self.session, lambda: bool(self.state.anonymise))
        self.review.sig_dock_ready.connect(self._on_dock_ready)
        # where new sessions autosave (None = the user data folder); a teaching attempt points it at
        # its own folder so a trainee's read never replaces a reader's autosaved read of the study
        self.autosave_data_dir: Path | None = None
        # review mode (read-only findings): undo/redo and delete are locked too, not only the panels
        self.edits_locked = False
        self.notice_box: QMessageBox | None = None
        self._for_cache: dict[str, str | None] = {}
        self.items: dict[tuple[int, str], AnnotationItem] = {}
        self.tool_driver = ToolDriver(lambda: self.store, self.registry, self.frame_of_reference,
                                         self._reader, self)
        self.tool_driver.sig_prompt.connect(self._show_prompt)
        self.tool_driver.sig_tool_changed.connect(self._on_tool_changed)
        from app.ui.annotations import style

        for v in self.grid.all_views:
            v.set_tool_driver(self.tool_driver)
            self.tool_driver.install_on(v)
            v.pre_paint_hooks.append(style.reset_labels)
        self._build_actions()
        self.state.changed.connect(self._on_state)
        self.autosave_label = QLabel("")
        self.autosave_label.setObjectName("AutosaveStatus")
        window.statusBar().addPermanentWidget(self.autosave_label)
        self._autosave_timer = QTimer(self)
        self._autosave_timer.setInterval(1000)
        self._autosave_timer.timeout.connect(self.update_autosave_status)
        self._autosave_timer.start()
        self._closed = False
        if hasattr(window, "sig_closed"):
            window.sig_closed.connect(self.close)

    # ---- helpers ---------------------------------------------------------------------------
    def _reader(self) -> str:
        return self.session.findings.reader if self.session is not None else ""

    def frame_of_reference(self, series_uid: str) -> str | None:
        if series_uid in self._for_cache:
            return self._for_cache[series_uid]
        for obj, _prep in getattr(self.window.controller, "loaded", {}).values():
            if getattr(obj, "series_instance_uid", None) == series_uid:
                self._for_cache[series_uid] = getattr(obj, "frame_of_reference_uid", None)
                return self._for_cache[series_uid]
        for v in self.grid.all_views:
            vol = getattr(getattr(v, "display", None), "volume", None)
            if vol is not None and vol.series_instance_uid == series_uid:
                self._for_cache[series_uid] = vol.frame_of_reference_uid
                return vol.frame_of_reference_uid
        return None

    def _show_prompt(self, text: str) -> None:
        if text:
            self.window.statusBar().showMessage(text)
        else:
            self.window.statusBar().clearMessage()

    # ---- actions ---------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        taken = {k.toString() for a in w.findChildren(QAction) for k in a.shortcuts() if not k.isEmpty()}
        # Alt+letter of the menu titles (File, MPR ... and the Annotate / Edit menus made here)
        # opens that menu: a tool must not take it (Alt+M opened the MPR menu, not Meyerding)
        titles = [a.text() for a in w.menuBar().actions()] + ["&Annotate", "&Edit"]
        taken |= {f"Alt+{t[t.index('&') + 1].upper()}" for t in titles if "&" in t[:-1]}
        self.shortcuts = resolve_shortcuts(self.registry, taken)
        mode_group = w.actions["mode.wl"].actionGroup() if hasattr(w, "actions") and "mode.wl" in w.actions else None
        bar = w.menuBar()
        self.menu = bar.addMenu("&Annotate")
        help_menu = next((a for a in bar.actions() if a.text().replace("&", "") == "Help"), None)
        if help_menu is not None:
            bar.insertAction(help_menu, self.menu.menuAction())
        self.tool_actions: dict[str, QAction] = {}
        self.role_actions: dict[str, QAction] = {}
        role_menu = None
        role_group = QActionGroup(w)
        for spec in annotate_actions(self.registry):
            if spec.group == "roi_role":
                role = spec.id.rsplit(".", 1)[1]
                a = make_action(w, spec, lambda _checked=False, r=role: self.set_roi_role(r))
                a.setChecked(role == self.tool_driver.roi_role)
                role_group.addAction(a)
                if role_menu is None:
                    self.menu.addSeparator()
                    role_menu = self.menu.addMenu("ROI role")
                role_menu.addAction(a)
                self.role_actions[role] = a
                continue
            tid = spec.id.removeprefix("annotate.")
            sc = self.shortcuts.get(tid, "")
            a = make_action(w, spec, lambda _checked=False, t=tid: self.activate_tool(t), shortcut=sc)
            a.setToolTip(f"{spec.title}  ({sc})" if sc else spec.title)
            if mode_group is not None:
                mode_group.addAction(a)
            self.menu.addAction(a)
            self.tool_actions[tid] = a
        self.toolbar = QToolBar("Annotation tools", w)
        self.toolbar.setObjectName("AnnotationToolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for tid in TOOLBAR_ORDER:
            if tid is None:
                self.toolbar.addSeparator()
            elif tid in self.tool_actions:
                self.toolbar.addAction(self.tool_actions[tid])
            if tid == "freehand":
                self.role_combo = QComboBox()
                self.role_combo.setToolTip("Role of new ROIs: an oedema ROI (with its pars) is compared with a "
                                           "reference ROI in normal marrow (signal ratio)")
                for role, title in ROI_ROLE_TITLES.items():
                    self.role_combo.addItem(title, role)
                self.role_combo.currentIndexChanged.connect(
                    lambda i: self.set_roi_role(self.role_combo.itemData(i)))
                self.toolbar.addWidget(self.role_combo)
        w.addToolBarBreak()  # a second row: every tool reachable at 1280x800
        w.addToolBar(self.toolbar)
        # Edit menu: after File
        self.edit_menu = bar.addMenu("&Edit")
        menus = bar.actions()
        if len(menus) > 1:
            bar.insertAction(menus[1], self.edit_menu.menuAction())
        edit = {spec.id: spec for spec in EDIT_ACTIONS}
        self.undo_action = make_action(w, edit["edit.undo"], self._undo_triggered)
        self.redo_action = make_action(w, edit["edit.redo"], self._redo_triggered)
        self.delete_action = make_action(w, edit["edit.delete"], self.delete_selected)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        w.removeAction(self.delete_action)
        self.grid.addAction(self.delete_action)  # Delete acts while the focus is in the viewer grid
        for a in (self.undo_action, self.redo_action):
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.edit_menu.addAction(self.undo_action)
        self.edit_menu.addAction(self.redo_action)
        self.edit_menu.addSeparator()
        self.edit_menu.addAction(self.delete_action)
        self._update_edit_actions()
        # View menu: the review dock (built lazily) and the toolbars can always be re-opened
        view_menu = next((a.menu() for a in bar.actions() if a.text().replace("&", "") == "View"), None)
        self.review_action = QAction("Review panel (findings, context, pathway)", w)
        self.review_action.setObjectName("view.review_panel")
        self.review_action.setCheckable(True)
        self.review_action.triggered.connect(self._toggle_review)
        if view_menu is not None:
            view_menu.addSeparator()
            view_menu.addAction(self.review_action)
            for tb in (w.findChild(QToolBar, "MainToolbar"), self.toolbar):
                if tb is not None:
                    view_menu.addAction(tb.toggleViewAction())

    def _toggle_review(self, on: bool) -> None:
        if not on:
            if self.dock is not None:
                self.dock.hide()
            return
        if self.ensure_dock() is None:
            self.review_action.setChecked(False)
            self._show_prompt("Open a study first: the review panel belongs to a study")
            return
        self.dock.show()
        self.dock.raise_()

    def set_edits_locked(self, locked: bool) -> None:
        """Read-only review: Edit > Undo / Redo / Delete do nothing until unlocked (Amend)."""
        self.edits_locked = bool(locked)
        self._update_edit_actions()

    def _update_edit_actions(self, *_: Any) -> None:
        h = self.session.history if self.session is not None and not self.edits_locked else None
        self.undo_action.setEnabled(h is not None and h.can_undo)
        self.redo_action.setEnabled(h is not None and h.can_redo)
        self.delete_action.setEnabled(not self.edits_locked)
        self.undo_action.setText("Undo" + (f" {h.undo_text}" if h is not None and h.undo_text else ""))
        self.redo_action.setText("Redo" + (f" {h.redo_text}" if h is not None and h.redo_text else ""))

    # ---- autosave status -------------------------------------------------------------------
    def update_autosave_status(self) -> None:
        """"Autosave: saved 12:03:41", or a red warning when saving fails or is off."""
        if self.session is None:
            self.autosave_label.setText("")
            return
        state, detail = self.session.autosave.status()
        text = {"saved": f"Autosave: saved {detail}", "pending": "Autosave: saving…", "idle": "Autosave: on",
                "failed": "AUTOSAVE FAILED - your work is not being saved", "off": "AUTOSAVE OFF"}[state]
        bad = state in ("failed", "off")
        self.autosave_label.setText(text)
        self.autosave_label.setToolTip(detail if bad else "Work is saved automatically as you go")
        self.autosave_label.setStyleSheet("background: #b00020; color: white; font-weight: bold; padding: 1px 6px;"
                                          if bad else "")
        if bad and not getattr(self, "_warned_autosave", False):
            self._warned_autosave = True
            self._notify("Autosave is not working", f"{text}.\n\n{detail}\n\nSave the findings to a file "
                         "(Findings > Save findings) until this is fixed.")
        elif not bad:
            self._warned_autosave = False

    def _notify(self, title: str, text: str) -> None:
        """A non-blocking warning the reader has to dismiss (the review goes on meanwhile)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self.window)
        box.setModal(False)
        box.show()
        self.notice_box = box

    # ---- tools -----------------------------------------------------------------------------
    def activate_tool(self, tool_id: str) -> None:
        if self.store is None:
            self._show_prompt("Open a study first")
            self.tool_actions[tool_id].setChecked(False)
            return
        self.tool_driver.activate(tool_id)
        self.tool_actions[tool_id].setChecked(True)
        self.state.set_mode("tool")

    def set_roi_role(self, role: str) -> None:
        """Role of new ROIs, and of the selected ROIs (switchable after drawing; one undo step)."""
        self.tool_driver.set_roi_role(role)
        st = self.store
        if st is not None:
            chosen = [a for a in st.of_kind(EllipseROI, FreehandROI) if a.id in st.selection and a.role != role]
            if chosen:
                st.update_many([a.touched(role=role) for a in chosen], text=f"set ROI role {role}")
        self.role_actions[role].setChecked(True)
        i = self.role_combo.findData(role)
        if i >= 0 and self.role_combo.currentIndex() != i:
            self.role_combo.setCurrentIndex(i)

    def _on_tool_changed(self, tool_id: str) -> None:
        for tid, a in self.tool_actions.items():
            if a.isChecked() != (tid == tool_id) and tid == tool_id:
                a.setChecked(True)
        for v in self.grid.all_views:  # a precise cross while drawing
            if tool_id and tool_id != "select":
                v.viewport().setCursor(Qt.CursorShape.CrossCursor)
            else:
                v.viewport().unsetCursor()

    def _on_state(self, name: str) -> None:
        if name == "mode" and self.state.mode != "tool" and self.tool_driver.tool is not None:
            self.tool_driver.deactivate()
        elif name == "anonymise":
            self.review.set_anonymised(bool(self.state.anonymise))

    # ---- undo / delete ---------------------------------------------------------------------
    def undo(self) -> bool:
        if self.edits_locked:
            return False
        if self.tool_driver.tool is not None and getattr(self.tool_driver.tool, "busy", False):
            self.tool_driver.tool.cancel()
        panel = self.review_widget.findings_panel if self.review_widget is not None else None
        if panel is not None:
            panel.commit_pending()  # a half-typed impression is a step too
        ok = self.session.undo() if self.session is not None else False
        self.refresh_views()
        return ok

    def redo(self) -> bool:
        if self.edits_locked:
            return False
        ok = self.session.redo() if self.session is not None else False
        self.refresh_views()
        return ok

    def _undo_triggered(self, *_: Any) -> None:  # Qt slots return None (bool results upset PySide6)
        self.undo()

    def _redo_triggered(self, *_: Any) -> None:
        self.redo()

    def delete_selected(self) -> None:
        if self.edits_locked:
            return
        st = self.store
        if st is not None and st.selection:
            st.remove_many(sorted(st.selection))

    # ---- session ---------------------------------------------------------------------------
    def park_session(self, loading_what: str) -> None:
        """Flush and close the current session and empty the dock now: nothing of the previous
        study stays visible while the next one loads."""
        if self.tool_driver.tool is not None:
            self.tool_driver.deactivate()
        old = self.session
        if old is not None:
            self._disconnect_store()
            old.history.changed.disconnect(self._update_edit_actions)
            self.session = None
            self.store = None
            old.close()
            self.sync_items()
        self.review.park(loading_what)
        self._update_edit_actions()
        self.update_autosave_status()

    @property
    def study_findings_offer(self) -> Any:
        """Offers the Isthmus SRs found in an opened study (app.ui.dialogs.study_findings)."""
        if self._study_findings_offer is None:
            from app.ui.dialogs.study_findings import StudyFindingsOffer

            self._study_findings_offer = StudyFindingsOffer(self.window, lambda: self.session)
        return self._study_findings_offer

    def close_study_notices(self) -> None:
        """Close the open study's message boxes: its notice and the SR offer's dialog or message
        (File > Close study: nothing of a closed study stays on screen)."""
        import shiboken6

        offer = self._study_findings_offer
        for box in (self.notice_box, getattr(offer, "dialog", None), getattr(offer, "message", None)):
            if box is not None and shiboken6.isValid(box):
                box.close()

    def set_session(self, session: StudySession) -> None:
        """Show ``session`` (created by the window, app.ui.main_window): its drawings on the views,
        its history under Edit, its findings in the review dock; a set-aside autosave is told."""
        if self.session is not None and self.session is not session:
            self.park_session("")
        self.session = session
        self.store = session.annotation_store
        self._for_cache.clear()
        self._connect_store()
        session.history.changed.connect(self._update_edit_actions)
        self.tool_driver.store_replaced()
        self.review.show_session(session)
        self.sync_items()
        self._update_edit_actions()
        self.update_autosave_status()
        if session.autosave.notice:
            self._notify("Autosave not restored", session.autosave.notice)
        unfinished = [a for a in session.annotation_store.of_kind(ParsMarker) if a.pending]
        if unfinished:  # placed, then Isthmus closed before its popup was answered
            self._notify("Unfinished pars markers restored", unfinished_markers_text(len(unfinished)))

    # ---- the review dock (app.ui.annotations.review_host) -----------------------------------
    @property
    def dock(self) -> QDockWidget | None:
        return self.review.dock

    def ensure_dock(self) -> QDockWidget | None:
        """Build the review dock for the current session now (normally done once loading is idle)."""
        return self.review.ensure_dock()

    def size_review_dock(self) -> None:
        self.review.size_review_dock()

    def _on_dock_ready(self, dock: QDockWidget) -> None:
        if not dock.property("review_action_linked"):  # once: the dock goes into the window once
            dock.setProperty("review_action_linked", True)
            dock.visibilityChanged.connect(self.review_action.setChecked)
        self.review_action.setChecked(dock.isVisible())
        # Review > Review mode locks the panels: the ones just built too, before they are shown
        review_mode = getattr(getattr(self.window, "report", None), "review_mode", None)
        if review_mode is not None:
            review_mode.apply()
        self.sig_dock_ready.emit(dock)

    @property
    def review_widget(self) -> Any:
        return self.dock.widget() if self.dock is not None else None

    def _connect_store(self) -> None:
        st = self.store
        if st is None:
            return
        ev = st.events
        ev.added.connect(self._on_added)
        ev.changed.connect(self._on_changed)
        ev.removed.connect(self._on_removed)
        ev.reset.connect(self.sync_items)
        ev.selection_changed.connect(self._on_selection)

    def _disconnect_store(self) -> None:
        st = self.store
        if st is None:
            return
        ev = st.events
        for sig, cb in ((ev.added, self._on_added), (ev.changed, self._on_changed), (ev.removed, self._on_removed),
                        (ev.reset, self.sync_items), (ev.selection_changed, self._on_selection)):
            sig.disconnect(cb)

    # ---- items -----------------------------------------------------------------------------
    def _is_selected(self, aid: str) -> bool:
        return self.store is not None and aid in self.store.selection

    def _extra(self, ann: Annotation) -> str:
        return roi_ratio_text(self.store, ann)

    def _add_item(self, view_index: int, view: Any, ann: Annotation) -> None:
        try:
            item = make_item(ann, ViewMapper(view, self.frame_of_reference), view.annotation_layer,
                             is_selected=self._is_selected, extra_text=self._extra)
        except KeyError:
            log.warning("no item for annotation kind %s", ann.kind)
            return
        self.items[(view_index, ann.id)] = item

    def sync_items(self, *_: Any) -> None:
        anns = {a.id: a for a in self.store} if self.store is not None else {}
        for (vi, aid), item in list(self.items.items()):
            if aid not in anns:
                if item.scene() is not None:
                    item.scene().removeItem(item)
                del self.items[(vi, aid)]
            elif item.annotation is not anns[aid]:
                item.set_annotation(anns[aid])
        for vi, v in enumerate(self.grid.all_views):
            for aid, ann in anns.items():
                if (vi, aid) not in self.items:
                    self._add_item(vi, v, ann)
        self.refresh_views()

    def _on_added(self, ann: Annotation) -> None:
        self.sync_items()

    def _on_changed(self, new: Annotation, old: Annotation | None = None) -> None:
        for vi, _v in enumerate(self.grid.all_views):
            item = self.items.get((vi, new.id))
            if item is not None:
                item.set_annotation(new)
        self.refresh_views()

    def _on_removed(self, ann: Annotation) -> None:
        self.sync_items()

    def _on_selection(self, *_: Any) -> None:
        self.refresh_views()

    def items_for(self, view: Any) -> list[AnnotationItem]:
        vi = self.grid.all_views.index(view)
        return [it for (i, _aid), it in self.items.items() if i == vi]

    def refresh_views(self) -> None:
        for v in self.grid.all_views:
            if v.isVisible():
                v.viewport().update()

    # ---- closing ---------------------------------------------------------------------------
    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._autosave_timer.stop()
        self.tool_driver.detach(self.grid.all_views)
        self._disconnect_store()
        for item in self.items.values():  # items hold bound methods of this object: break the cycles
            if item.scene() is not None:
                item.scene().removeItem(item)
        self.items.clear()
        with contextlib.suppress(Exception):
            self.state.changed.disconnect(self._on_state)
        self.review.close()
        if self.session is not None:
            self.session.history.changed.disconnect(self._update_edit_actions)
            self.session.close()
            self.session = None
        self.store = None
        # collect the Qt wrappers freed above now, on the GUI thread (a later collection could
        # run in a loader thread and delete Qt objects there)
        gc.collect()


def install_annotation_layer(window: Any, registry: ToolRegistry | None = None) -> AnnotationWorkspace:
    """Attach the annotation workspace to a MainWindow; kept as ``window.annotations``."""
    ws = AnnotationWorkspace(window, registry)
    window.annotations = ws
    return ws
