"""The admin console's script library tab: the guided scripts every officer's panel offers.

The list shows each script's version in use, whether it has a draft or is retired, the moods the
panel proposes it for, its languages, how often it was run and who published it. From here an admin
writes a new script or edits a draft (``ui.script_editor``), publishes the selected drafts together
(scripts that lead to each other go live at once), retires and restores, chooses the moods, reads
the history of versions, imports TOML files as drafts and exports them.

Every read and write runs through ``ui.operations``; what the library service refuses is shown on
the tab's message line in its own words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDir,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.domain.scripts import Mood
from ui.admin_common import MessageLine, button, error_text, plain, retitle, tr
from ui.labels import local_time
from ui.script_editor import ScriptEditor, mood_label, moods_text, problem_text
from ui.widgets import ask_yes_no

if TYPE_CHECKING:
    from desk.services.script_library import ImportResult, ScriptEntry, VersionInfo
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1

COLUMNS = (
    "Title",
    "Id",
    "In use",
    "Status",
    "Proposed for",
    "Languages",
    "Runs",
    "Published",
)
TOML_FILTER = "Guided scripts (*.toml)"


def status_text(entry: ScriptEntry) -> str:
    if entry.retired:
        return tr("Retired, has a draft") if entry.has_draft else tr("Retired")
    if entry.published_version is None:
        return tr("Draft only")
    return tr("In use, has a draft") if entry.has_draft else tr("In use")


def proposed_text(entry: ScriptEntry) -> str:
    """The moods the panel proposes the script for first; when none are named, the moods it
    suits (the panel proposes by those, best first)."""
    if entry.moods_assigned:
        text = moods_text(entry.proposed_for) or tr("no mood")
        return tr("{moods} (chosen here)").format(moods=text)
    if entry.proposed_for:
        return moods_text(entry.proposed_for)
    return tr("suits {moods}").format(moods=moods_text(entry.moods)) if entry.moods else ""


def published_text(entry: ScriptEntry) -> str:
    if entry.published_at is None:
        return ""
    return tr("{who}, {when}").format(
        who=entry.published_by, when=local_time(entry.published_at, with_time=False)
    )


def entry_tooltip(entry: ScriptEntry) -> str:
    lines = [f"{entry.title} ({entry.script_id})", status_text(entry)]
    if entry.published_at is not None:
        lines.append(
            tr("Version {n} published by {who} on {when}.").format(
                n=entry.published_version,
                who=entry.published_by,
                when=local_time(entry.published_at),
            )
        )
    if entry.has_draft:
        lines.append(
            tr("Draft saved by {who} on {when}.").format(
                who=entry.draft_updated_by or tr("the operator"),
                when=local_time(entry.draft_updated_at),
            )
        )
    if entry.moods:
        lines.append(tr("Suits: {moods}.").format(moods=moods_text(entry.moods)))
    if entry.linked_from:
        lines.append(tr("Scripts leading here: {ids}.").format(ids=", ".join(entry.linked_from)))
    return "\n".join(lines)


class ScriptsModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[ScriptEntry] = []

    def set_entries(self, entries: Sequence[ScriptEntry]) -> None:
        self.beginResetModel()
        self.rows = list(entries)
        self.endResetModel()

    def find(self, script_id: str) -> ScriptEntry | None:
        return next((e for e in self.rows if e.script_id == script_id), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(COLUMNS[section])
        return None

    def cells(self, entry: ScriptEntry) -> tuple[str, ...]:
        return (
            entry.title,
            entry.script_id,
            tr("version {n}").format(n=entry.published_version)
            if entry.published_version is not None
            else "-",
            status_text(entry),
            proposed_text(entry),
            ", ".join(entry.languages),
            str(entry.runs),
            published_text(entry),
        )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.rows[index.row()]
        if role == ID_ROLE:
            return entry.script_id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cells(entry)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return entry_tooltip(entry)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 6:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and entry.retired:
            return Qt.GlobalColor.darkGray
        return None


class ScriptsTab(QWidget):
    """Emits ``loadingChanged`` while its data is being read."""

    loadingChanged = Signal(bool)
    loaded = Signal()
    exported = Signal(object)  # list[Path]

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminScriptsTab")
        self.dialog: QDialog | None = None
        self.confirm: QMessageBox | None = None
        self.loading = False
        self._reload_again = False
        self._select_after_load: list[str] = []

        intro = QLabel(
            self.tr(
                "The guided scripts officers follow. Changes are made in a draft, which only "
                "admins see, and reach every officer when published; runs under way keep the "
                "version they started with. Enter edits the selected script; Publish takes "
                "every selected draft live together."
            )
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")

        self.filter = QLineEdit()
        self.filter.setObjectName("scriptFilter")
        self.filter.setAccessibleName(self.tr("Find scripts"))
        self.filter.setPlaceholderText(self.tr("title, id, status, mood… (Ctrl+F)"))
        self.filter.setClearButtonEnabled(True)
        filter_label = QLabel(self.tr("&Find:"))
        filter_label.setBuddy(self.filter)

        self.model = ScriptsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setObjectName("scriptsTable")
        self.table.setAccessibleName(self.tr("Guided scripts"))
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        # The other columns are as wide as their words: nothing is cut short.
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # The title takes the room left and the moods have a width of their own: both wrap,
        # and a row grows to show them whole.
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(4, 190)
        self.table.setWordWrap(True)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(lambda _index: self.edit_selected())

        self.new_button = button(self.tr("&New script…"), "scriptNewButton", self.tr("New script"))
        self.new_button.setToolTip(self.tr("Write a new script (Ctrl+N)"))
        self.edit_button = button(self.tr("&Edit…"), "scriptEditButton", self.tr("Edit the script"))
        self.edit_button.setToolTip(self.tr("Edit the draft of the selected script (Enter)"))
        self.publish_button = button(
            self.tr("&Publish"), "scriptPublishButton", self.tr("Publish the selected drafts")
        )
        self.publish_button.setToolTip(
            self.tr("Publish the drafts of every selected script, together")
        )
        self.discard_button = button(
            self.tr("&Discard draft…"), "scriptDiscardButton", self.tr("Discard the draft")
        )
        self.retire_button = button(self.tr("&Retire…"), "scriptRetireButton", self.tr("Retire"))
        self.moods_button = button(
            self.tr("&Moods…"), "scriptMoodsButton", self.tr("Moods the script is proposed for")
        )
        self.history_button = button(
            self.tr("&History…"), "scriptHistoryButton", self.tr("History of versions")
        )
        self.import_button = button(
            self.tr("&Import…"), "scriptImportButton", self.tr("Import script files")
        )
        self.import_button.setToolTip(self.tr("Import TOML files as drafts (Ctrl+O)"))
        self.export_button = button(
            self.tr("E&xport…"), "scriptExportButton", self.tr("Export the script")
        )
        self.export_all_button = button(
            self.tr("Export a&ll…"), "scriptExportAllButton", self.tr("Export every script in use")
        )
        self.new_button.clicked.connect(self.new_script)
        self.edit_button.clicked.connect(self.edit_selected)
        self.publish_button.clicked.connect(self.publish_selected)
        self.discard_button.clicked.connect(self.discard_selected)
        self.retire_button.clicked.connect(self.retire_or_restore)
        self.moods_button.clicked.connect(self.choose_moods)
        self.history_button.clicked.connect(self.show_history)
        self.import_button.clicked.connect(self.import_files)
        self.export_button.clicked.connect(self.export_selected)
        self.export_all_button.clicked.connect(self.export_all)
        self.message = MessageLine("scriptsMessage")

        for keys, slot in (
            (QKeySequence.StandardKey.New, self.new_script),
            (QKeySequence.StandardKey.Open, self.import_files),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter, 1)
        # Two rows: what changes a script, then what reads or moves files.
        actions = QGridLayout()
        actions.setHorizontalSpacing(6)
        for column, widget in enumerate(
            (
                self.new_button,
                self.edit_button,
                self.publish_button,
                self.discard_button,
                self.retire_button,
            )
        ):
            actions.addWidget(widget, 0, column)
        for column, widget in enumerate(
            (
                self.moods_button,
                self.history_button,
                self.import_button,
                self.export_button,
                self.export_all_button,
            )
        ):
            actions.addWidget(widget, 1, column)
        actions.setColumnStretch(5, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True  # a change landed while reading: read once more after
            return
        self._set_loading(True)
        self.ops.query(
            lambda d: d.scripts.entries(),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading the scripts…"),
        )

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loadingChanged.emit(loading)

    def _loaded(self, entries: list[ScriptEntry]) -> None:
        current = self.current()
        keep = self._select_after_load or [e.script_id for e in self.selected()]
        if current is not None and not self._select_after_load:
            keep = [current.script_id, *(k for k in keep if k != current.script_id)]
        self._select_after_load = []
        self.model.set_entries(entries)
        if keep:
            self.select(*keep)
        if not self.table.currentIndex().isValid() and self.proxy.rowCount():
            self.select(str(self.proxy.index(0, 0).data(ID_ROLE)))
        self._update_buttons()
        self._finish_loading()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._finish_loading()

    def _finish_loading(self) -> None:
        self._set_loading(False)
        if self._reload_again:
            self._reload_again = False
            self.reload()

    # --- selection ---------------------------------------------------------------------------

    def current(self) -> ScriptEntry | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.find(str(self.proxy.data(index, ID_ROLE)))

    def selected(self) -> list[ScriptEntry]:
        """The selected scripts (the current one at least, when any)."""
        found = [
            self.model.find(str(self.proxy.data(index, ID_ROLE)))
            for index in self.table.selectionModel().selectedRows()
        ]
        entries = [e for e in found if e is not None]
        current = self.current()
        if current is not None and current not in entries:
            entries.insert(0, current)
        return entries

    def select(self, *script_ids: str) -> None:
        """Select these scripts; the first becomes the current one."""
        selection = self.table.selectionModel()
        first = True
        for script_id in script_ids:
            for row in range(self.proxy.rowCount()):
                index = self.proxy.index(row, 0)
                if self.proxy.data(index, ID_ROLE) != script_id:
                    continue
                flags = QItemSelectionModel.SelectionFlag.Rows
                if first:
                    selection.setCurrentIndex(
                        index, QItemSelectionModel.SelectionFlag.ClearAndSelect | flags
                    )
                    first = False
                else:
                    selection.select(index, QItemSelectionModel.SelectionFlag.Select | flags)
                break

    def _update_buttons(self) -> None:
        entry = self.current()
        drafts = [e for e in self.selected() if e.has_draft]
        self.edit_button.setEnabled(entry is not None)
        self.publish_button.setEnabled(bool(drafts))
        retitle(
            self.publish_button,
            self.tr("&Publish {n} drafts").format(n=len(drafts))
            if len(drafts) > 1
            else self.tr("&Publish"),
        )
        self.discard_button.setEnabled(entry is not None and entry.has_draft)
        published = entry is not None and entry.published_version is not None
        self.retire_button.setEnabled(published)
        retitle(
            self.retire_button,
            self.tr("&Restore") if entry is not None and entry.retired else self.tr("&Retire…"),
        )
        self.moods_button.setEnabled(entry is not None)
        self.history_button.setEnabled(published)
        self.export_button.setEnabled(entry is not None)

    # --- dialogs -----------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self.table.setFocus())
        dialog.open()
        dialog.activateWindow()

    def _officer_name(self) -> str:
        desk = self.ops.desk
        session = desk.session if desk is not None else None
        return session.full_name if session is not None else ""

    def _editor(self, script_id: str | None) -> ScriptEditor:
        editor = ScriptEditor(
            self.ops,
            script_id,
            taken=[e.script_id for e in self.model.rows],
            officer_name=self._officer_name(),
            parent=self.window(),
        )
        editor.saved.connect(self._draft_saved)
        editor.published.connect(self._published_one)
        self._open(editor)
        return editor

    def new_script(self) -> None:
        self._editor(None)

    def edit_selected(self) -> None:
        entry = self.current()
        if entry is not None:
            self._editor(entry.script_id)

    def _draft_saved(self, draft: Any) -> None:
        self.message.info(
            self.tr("The draft of {id} is saved; officers see it once it is published.").format(
                id=draft.script_id
            )
        )
        self._select_after_load = [draft.script_id]

    def _published_one(self, script_id: str, version: int) -> None:
        self.message.info(
            self.tr(
                "{id} is published as version {n}: officers get it from their next run."
            ).format(id=script_id, n=version)
        )
        self._select_after_load = [script_id]

    # --- publishing, retiring, drafts --------------------------------------------------------

    def publish_selected(self) -> None:
        ids = [e.script_id for e in self.selected() if e.has_draft]
        if not ids:
            return
        self.publish_button.setEnabled(False)
        self.ops.write(
            lambda d: d.scripts.publish(ids),
            on_success=lambda versions: self._published(ids, versions),
            on_error=self._failed,
            owner=self,
            label=self.tr("Publishing…"),
        )

    def _published(self, ids: list[str], versions: list[int]) -> None:
        done = ", ".join(
            self.tr("{id} version {n}").format(id=i, n=v)
            for i, v in zip(ids, versions, strict=False)
        )
        self.message.info(
            self.tr("Published: {done}. Officers get it from their next run.").format(done=done)
        )
        self._select_after_load = list(ids)

    def _failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._update_buttons()

    def _ask(self, object_name: str, title: str, text: str, then: Any) -> None:
        self.confirm = ask_yes_no(self.window(), object_name, title, text, then)

    def retire_or_restore(self) -> None:
        entry = self.current()
        if entry is None or entry.published_version is None:
            return
        script_id = entry.script_id
        if entry.retired:
            self._write(
                lambda d: d.scripts.restore(script_id),
                self.tr("{title} is in use again.").format(title=entry.title),
                script_id,
                self.tr("Restoring the script…"),
            )
            return
        self._ask(
            "scriptRetireConfirm",
            self.tr("Retire a script"),
            self.tr(
                "Retire {title}? Officers are no longer offered it; the runs recorded with it "
                "keep their record, and Restore brings it back."
            ).format(title=entry.title),
            lambda: self._write(
                lambda d: d.scripts.retire(script_id),
                self.tr("{title} is retired; Restore brings it back.").format(title=entry.title),
                script_id,
                self.tr("Retiring the script…"),
            ),
        )

    def discard_selected(self) -> None:
        entry = self.current()
        if entry is None or not entry.has_draft:
            return
        script_id, revision = entry.script_id, entry.draft_revision
        if entry.published_version is None:
            question = self.tr(
                "Discard the draft of {title}? It was never published, so the script leaves "
                "the library."
            )
        else:
            question = self.tr(
                "Discard the draft of {title}? Version {n} stays in use; the draft's changes "
                "are lost."
            )
        self._ask(
            "scriptDiscardConfirm",
            self.tr("Discard a draft"),
            question.format(title=entry.title, n=entry.published_version),
            lambda: self._write(
                lambda d: d.scripts.discard_draft(script_id, expected_revision=revision),
                self.tr("The draft of {title} was discarded.").format(title=entry.title),
                script_id,
                self.tr("Discarding the draft…"),
            ),
        )

    def _write(self, fn: Any, done: str, script_id: str, label: str) -> None:
        for widget in (self.retire_button, self.discard_button):
            widget.setEnabled(False)
        self.ops.write(
            fn,
            on_success=lambda _result: self._written(done, script_id),
            on_error=self._failed,
            owner=self,
            label=label,
        )

    def _written(self, done: str, script_id: str) -> None:
        self.message.info(done)
        self._select_after_load = [script_id]

    # --- moods and history -------------------------------------------------------------------

    def choose_moods(self) -> None:
        entry = self.current()
        if entry is None:
            return
        dialog = MoodsDialog(self.ops, entry, parent=self.window())
        script_id = entry.script_id
        dialog.saved.connect(lambda text: self._written(text, script_id))
        self._open(dialog)

    def show_history(self) -> None:
        entry = self.current()
        if entry is not None and entry.published_version is not None:
            self._open(HistoryDialog(self.ops, entry, parent=self.window()))

    # --- files -------------------------------------------------------------------------------

    def ask_import_paths(self) -> list[str]:
        """Which files to import (a file dialog; tests replace it)."""
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Import guided scripts"), QDir.homePath(), self.tr(TOML_FILTER)
        )
        return list(paths)

    def ask_export_path(self, script_id: str) -> str:
        """Where to write one script (a file dialog; tests replace it)."""
        path, _ = QFileDialog.getSaveFileName(
            self,
            self.tr("Export a guided script"),
            str(Path(QDir.homePath()) / f"{script_id}.toml"),
            self.tr(TOML_FILTER),
        )
        return path

    def ask_export_directory(self) -> str:
        """Which folder to write every script into (a folder dialog; tests replace it)."""
        return QFileDialog.getExistingDirectory(
            self, self.tr("Export every script in use into a folder"), QDir.homePath()
        )

    def import_files(self) -> None:
        paths = [Path(p) for p in self.ask_import_paths()]
        if not paths:
            return
        self.import_button.setEnabled(False)
        self.message.info(self.tr("Reading {n} file(s)…").format(n=len(paths)))
        self.ops.write(
            lambda d: d.scripts.import_files(paths),
            on_success=self._imported,
            on_error=self._import_failed,
            owner=self,
            label=self.tr("Importing scripts…"),
        )

    def _imported(self, results: list[ImportResult]) -> None:
        self.import_button.setEnabled(True)
        taken = sum(1 for r in results if r.imported and not r.unchanged)
        unchanged = sum(1 for r in results if r.unchanged)
        refused = sum(1 for r in results if not r.imported)
        text = self.tr(
            "{n} file(s) read: {taken} imported as drafts, {same} unchanged, {refused} refused."
        ).format(n=len(results), taken=taken, same=unchanged, refused=refused)
        if refused:
            self.message.warning(text)
        else:
            self.message.info(text)
        self._select_after_load = [
            r.script_id for r in results if r.imported and not r.unchanged and r.script_id
        ]
        self._open(ImportResultsDialog(results, parent=self.window()))

    def _import_failed(self, exc: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.message.error(error_text(exc))

    def export_selected(self) -> None:
        entry = self.current()
        if entry is None:
            return
        path = self.ask_export_path(entry.script_id)
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".toml")
        script_id, draft = entry.script_id, entry.published_version is None
        if draft:
            done = self.tr("Wrote the draft of {id} to {path}.")
        else:
            done = self.tr("Wrote version {n} of {id} to {path}.")
        self.export_button.setEnabled(False)
        self.ops.query(
            lambda d: [d.scripts.export(script_id, target, draft=draft)],
            on_success=lambda written: self._exported(
                written, done.format(id=script_id, n=entry.published_version, path=target)
            ),
            on_error=self._failed,
            owner=self,
            label=self.tr("Exporting…"),
        )

    def export_all(self) -> None:
        directory = self.ask_export_directory()
        if not directory:
            return
        folder = Path(directory)
        self.export_all_button.setEnabled(False)
        self.ops.query(
            lambda d: d.scripts.export_all(folder),
            on_success=lambda written: self._exported(
                written,
                self.tr("Wrote {n} script(s) in use to {path}.").format(
                    n=len(written), path=folder
                ),
            ),
            on_error=self._export_all_failed,
            owner=self,
            label=self.tr("Exporting…"),
        )

    def _exported(self, written: list[Path], text: str) -> None:
        self.export_all_button.setEnabled(True)
        self.message.info(text)
        self._update_buttons()
        self.exported.emit(written)

    def _export_all_failed(self, exc: BaseException) -> None:
        self.export_all_button.setEnabled(True)
        self._failed(exc)


# --- the dialogs -------------------------------------------------------------------------------


def _close_box(dialog: QDialog, object_name: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    close = buttons.button(QDialogButtonBox.StandardButton.Close)
    close.setObjectName(object_name)
    close.setAccessibleName(dialog.tr("Close"))
    buttons.rejected.connect(dialog.reject)
    return buttons


class MoodsDialog(QDialog):
    """The moods for which the panel proposes the script first: chosen here, or the file's."""

    saved = Signal(str)  # what was done, in words

    def __init__(self, ops: Operations, entry: ScriptEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.entry = entry
        self.busy = False
        self.setObjectName("scriptMoodsDialog")
        self.setWindowTitle(self.tr("Moods for {title}").format(title=entry.title))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(460)
        intro = QLabel(
            self.tr(
                "When the officer sets one of these moods, the panel proposes {title} first. "
                "A mood chosen here is no longer proposed with a script whose file names it."
            ).format(title=entry.title)
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        self.use_file = QCheckBox(self.tr("&Use the moods the script's file gives"))
        self.use_file.setObjectName("scriptMoodsFromFile")
        self.use_file.setAccessibleName(plain(self.use_file.text()))
        self.use_file.setChecked(not entry.moods_assigned)
        mnemonics = {
            Mood.CALM: "&Calm",
            Mood.ANXIOUS: "A&nxious",
            Mood.FRUSTRATED: "&Frustrated",
            Mood.ANGRY: "An&gry",
            Mood.DISTRESSED: "&Distressed",
            Mood.AGGRESSIVE: "Agg&ressive",
        }
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for i, mood in enumerate(Mood):
            box = QCheckBox(self.tr(mnemonics[mood]))
            box.setObjectName(f"scriptMood_{mood.value}")
            box.setAccessibleName(mood_label(mood))
            box.setChecked(mood.value in entry.proposed_for)
            if mood.value not in entry.moods and not entry.moods_assigned:
                box.setToolTip(self.tr("The script's file does not list this mood."))
            self.boxes[mood.value] = box
            grid.addWidget(box, i // 3, i % 3)
        self.use_file.toggled.connect(self._follow_file)
        self.error = MessageLine("scriptMoodsError")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("scriptMoodsCancel")
        cancel.setAccessibleName(self.tr("Cancel"))
        self.save_button = buttons.addButton(
            self.tr("&Save"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setObjectName("scriptMoodsSave")
        self.save_button.setAccessibleName(self.tr("Save"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.use_file)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.save_button.setDefault(True)  # once the box is in the dialog
        self._follow_file(self.use_file.isChecked())
        self.use_file.setFocus()

    def _follow_file(self, from_file: bool) -> None:
        for box in self.boxes.values():
            box.setEnabled(not from_file)

    def chosen(self) -> list[str] | None:
        if self.use_file.isChecked():
            return None
        return [mood for mood, box in self.boxes.items() if box.isChecked()]

    def submit(self) -> None:
        if self.busy:
            return
        moods, script_id, title = self.chosen(), self.entry.script_id, self.entry.title
        if moods is None:
            done = self.tr("{title} is proposed for the moods its file gives.")
        elif moods:
            done = self.tr("{title} is proposed first for: {moods}.")
        else:
            done = self.tr("{title} is proposed for no mood; officers can still pick it.")
        self.busy = True
        self.save_button.setEnabled(False)
        self.ops.write(
            lambda d: d.scripts.assign_moods(script_id, moods),
            on_success=lambda _r: self._saved(
                done.format(title=title, moods=moods_text(moods or ()))
            ),
            on_error=self._failed,
            owner=self,
            label=self.tr("Saving the moods…"),
        )

    def _saved(self, text: str) -> None:
        self.busy = False
        self.saved.emit(text)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.save_button.setEnabled(True)
        self.error.error(error_text(exc))


class HistoryDialog(QDialog):
    """Every published version of a script, newest first, with its text (read only)."""

    loaded = Signal()

    def __init__(self, ops: Operations, entry: ScriptEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.entry = entry
        self.versions: list[VersionInfo] = []
        self.setObjectName("scriptHistoryDialog")
        self.setWindowTitle(self.tr("History of {title}").format(title=entry.title))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.resize(900, 640)
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("scriptVersions")
        self.table.setAccessibleName(self.tr("Published versions"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Version"),
                self.tr("Title"),
                self.tr("Published"),
                self.tr("By"),
                self.tr("Runs"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.currentCellChanged.connect(lambda row, *_: self._show_version(row))
        versions_label = QLabel(self.tr("&Versions:"))
        versions_label.setBuddy(self.table)
        self.text = QPlainTextEdit()
        self.text.setObjectName("scriptVersionText")
        self.text.setAccessibleName(self.tr("Text of the version"))
        self.text.setReadOnly(True)
        self.text.setTabChangesFocus(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        text_label = QLabel(self.tr("&Text of the version:"))
        text_label.setBuddy(self.text)
        self.message = MessageLine("scriptHistoryMessage")
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(versions_label)
        top_layout.addWidget(self.table)
        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(text_label)
        bottom_layout.addWidget(self.text)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setSizes([200, 400])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        layout.addWidget(_close_box(self, "scriptHistoryClose"))
        self.table.setFocus()
        script_id = entry.script_id
        self.ops.query(
            lambda d: d.scripts.history(script_id),
            on_success=self._loaded,
            on_error=lambda exc: self.message.error(error_text(exc)),
            owner=self,
            label=self.tr("Loading the history…"),
        )

    def _loaded(self, versions: list[VersionInfo]) -> None:
        self.versions = versions
        self.table.setRowCount(len(versions))
        for row, info in enumerate(versions):
            cells = (
                str(info.version),
                info.title,
                local_time(info.published_at),
                info.published_by,
                str(info.runs),
            )
            for column, value in enumerate(cells):
                item = QTableWidgetItem(value)
                if column in (0, 4):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.table.setItem(row, column, item)
        if versions:
            self.table.setCurrentCell(0, 0)
        self.loaded.emit()

    def _show_version(self, row: int) -> None:
        if not 0 <= row < len(self.versions):
            return
        script_id, version = self.entry.script_id, self.versions[row].version
        self.text.setPlainText(self.tr("Loading version {n}…").format(n=version))
        self.ops.query(
            lambda d: d.scripts.version_source(script_id, version),
            on_success=lambda source: self._show_text(version, source),
            on_error=lambda exc: self.message.error(error_text(exc)),
            owner=self,
            key=f"script-version-{id(self)}",
        )

    def _show_text(self, version: int, source: str) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.versions) and self.versions[row].version == version:
            self.text.setPlainText(source)


class ImportResultsDialog(QDialog):
    """What became of each imported file: a draft, unchanged, or refused (with every problem)."""

    def __init__(self, results: Sequence[ImportResult], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scriptImportResults")
        self.setWindowTitle(self.tr("Imported scripts"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.resize(820, 420)
        intro = QLabel(
            self.tr(
                "Each file that could be read became a draft: open it from the list to check "
                "it, then publish it. A refused file changed nothing; each line says where the "
                "problem is."
            )
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        self.tree = QTreeWidget()
        self.tree.setObjectName("scriptImportTree")
        self.tree.setAccessibleName(self.tr("What became of each file"))
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("File"), self.tr("Result")])
        self.tree.setWordWrap(True)
        self.tree.header().setStretchLastSection(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for result in results:
            item = QTreeWidgetItem([result.file, self.result_text(result)])
            for column in (0, 1):
                item.setData(
                    column,
                    Qt.ItemDataRole.AccessibleTextRole,
                    f"{result.file}: {self.result_text(result)}",
                )
            for problem in result.problems:
                text = problem_text(problem)
                child = QTreeWidgetItem(["", text])
                child.setToolTip(1, text)
                for column in (0, 1):
                    child.setData(column, Qt.ItemDataRole.AccessibleTextRole, text)
                item.addChild(child)
            self.tree.addTopLevelItem(item)
            item.setExpanded(True)
        if self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.tree, 1)
        buttons = _close_box(self, "scriptImportClose")
        layout.addWidget(buttons)
        buttons.button(QDialogButtonBox.StandardButton.Close).setDefault(True)
        self.tree.setFocus()

    def result_text(self, result: ImportResult) -> str:
        if result.problems:
            return self.tr("Refused: {n} problem(s)").format(n=len(result.problems))
        if result.unchanged:
            return self.tr("Unchanged: the same as the version in use ({id})").format(
                id=result.script_id
            )
        if result.new_script:
            return self.tr("Imported as the draft of a new script ({id})").format(
                id=result.script_id
            )
        if result.replaced_draft:
            return self.tr("Imported as the draft of {id}, replacing its earlier draft").format(
                id=result.script_id
            )
        return self.tr("Imported as the draft of {id}").format(id=result.script_id)

    def lines(self) -> list[str]:
        """Every line shown, file lines and problem lines (for tests and screen readers)."""
        found = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            found.append(f"{item.text(0)}: {item.text(1)}")
            found.extend(f"  {item.child(j).text(1)}" for j in range(item.childCount()))
        return found
