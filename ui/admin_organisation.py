"""The admin console's organisation tabs: service centres, specialist teams and case categories.

Each tab lists what the organisation has, in use or not, with buttons (and their mnemonics) to add,
change and take out of use. Bad input comes back from the admin service as ``AdminInputError``
naming its field; the dialog shows the message under that field and keeps everything typed. A
change made from a stale copy (another admin changed it meanwhile) is refused: the dialog says who
changed what, shows their change in the fields the admin left alone, and keeps the admin's own
for a deliberate second save. Every read and write runs through ``ui.operations``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desk.services.admin import CategoryInfo, CentreDetails, CentreInfo, TeamInfo
from desk.services.errors import ConflictError
from ui.admin_common import MessageLine, button, error_text, retitle, tr
from ui.admin_staff import _FieldDialog
from ui.labels import local_time

if TYPE_CHECKING:
    from desk.bootstrap import Desk
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1


def state_text(active: bool) -> str:
    return tr("In use") if active else tr("Disabled")


def _line(object_name: str, accessible_name: str, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(object_name)
    edit.setAccessibleName(accessible_name)
    edit.setPlaceholderText(placeholder)
    return edit


def _changed_by(exc: ConflictError) -> str:
    if not exc.changed_by:
        return ""
    when = tr(" on {time}").format(time=local_time(exc.changed_at)) if exc.changed_at else ""
    return " " + tr("Last changed by {who}{when}.").format(who=exc.changed_by, when=when)


class FieldDialog(_FieldDialog):
    """The staff dialogs' base (errors under the field they name), with Enter in a field saving.

    ``_FieldDialog`` makes its accept button the default before the button box sits in the
    dialog, so the dialog never learns it and makes its first button, Cancel, the default when
    shown: Enter would throw the form away. Made default again once it is in place (off first:
    setting what is already set does nothing), the dialog keeps it.
    """

    def finish_layout(self, accept_text: str, accept_name: str) -> QPushButton:
        accept = super().finish_layout(accept_text, accept_name)
        accept.setDefault(False)
        accept.setDefault(True)
        return accept


# --- a list of plain values ----------------------------------------------------------------------


class RowsModel(QAbstractTableModel):
    """Rows of plain values (each with ``id`` and ``active``), one column per ``cells`` entry;
    rows out of use are greyed."""

    def __init__(
        self,
        columns: Sequence[str],
        cells: Callable[[Any], Sequence[str]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.columns = tuple(columns)
        self.cells = cells
        self.rows: list[Any] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def find(self, item_id: int) -> Any | None:
        return next((r for r in self.rows if r.id == item_id), None)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return tr(self.columns[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == ID_ROLE:
            return row.id
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return self.cells(row)[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and not row.active:
            return Qt.GlobalColor.darkGray
        return None


class _ListTab(QWidget):
    """A table of one kind of organisation record, its buttons and its message line."""

    loadingChanged = Signal(bool)
    loaded = Signal()

    def __init__(
        self,
        ops: Operations,
        *,
        object_name: str,
        table_name: str,
        table_caption: str,
        columns: Sequence[str],
        cells: Callable[[Any], Sequence[str]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName(object_name)
        self.dialog: _FieldDialog | None = None
        self.loading = False
        self._reload_again = False
        self._select_after_load: int | None = None

        self.model = RowsModel(columns, cells, self)
        self.table = QTableView()
        self.table.setObjectName(table_name)
        self.table.setAccessibleName(table_caption)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(lambda _index: self.edit_selected())
        self.message = MessageLine(f"{table_name}Message")
        self.actions = QHBoxLayout()
        layout = QVBoxLayout(self)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setProperty("role", "hint")
        layout.addWidget(self.intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(self.actions)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())

    def add_buttons(self, *buttons: QPushButton) -> None:
        for widget in buttons:
            self.actions.addWidget(widget)
        self.actions.addStretch(1)
        self._update_buttons()

    # --- loading -----------------------------------------------------------------------------

    def read(self, desk: Desk) -> list[Any]:
        raise NotImplementedError

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True  # a change landed while reading: read once more after
            return
        self._set_loading(True)
        self.ops.query(
            self.read,
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading…"),
        )

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loadingChanged.emit(loading)

    def _loaded(self, rows: list[Any]) -> None:
        current = self.selected()
        keep = self._select_after_load or (current.id if current is not None else None)
        self._select_after_load = None
        self.model.set_rows(rows)
        if keep is not None:
            self.select(keep)
        if not self.table.currentIndex().isValid() and self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
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

    def selected(self) -> Any | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def select(self, item_id: int) -> None:
        for row, item in enumerate(self.model.rows):
            if item.id == item_id:
                self.table.setCurrentIndex(self.model.index(row, 0))
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        raise NotImplementedError

    # --- actions -----------------------------------------------------------------------------

    def edit_selected(self) -> None:
        raise NotImplementedError

    def _open(self, dialog: _FieldDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self.table.setFocus())
        dialog.open()
        dialog.activateWindow()

    def _added(self, item_id: int, text: str) -> None:
        self.message.info(text)
        self._select_after_load = item_id  # the reload after the write shows it

    def _write_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._update_buttons()


# --- service centres -----------------------------------------------------------------------------

CENTRE_COLUMNS = (
    "Code",
    "Name",
    "State",
    "Active staff",
    "Address",
    "Phone",
    "E-mail",
    "Opening hours",
)


def _centre_cells(info: CentreInfo) -> tuple[str, ...]:
    return (
        info.code,
        info.name,
        state_text(info.active),
        str(info.active_staff),
        info.address,
        info.phone,
        info.email,
        info.opening_hours,
    )


class CentresTab(_ListTab):
    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(
            ops,
            object_name="adminCentresTab",
            table_name="centresTable",
            table_caption=tr("Service centres"),
            columns=CENTRE_COLUMNS,
            cells=_centre_cells,
            parent=parent,
        )
        self.intro.setText(
            self.tr(
                "The walk-in service centres. Staff work at one; a disabled centre is no longer "
                "offered for staff or cases, and a centre where active staff still work stays "
                "in use until they are moved. Enter changes the selected centre."
            )
        )
        self.add_button = button(
            self.tr("&Add centre…"), "centreAddButton", self.tr("Add a centre")
        )
        self.edit_button = button(
            self.tr("&Change…"), "centreEditButton", self.tr("Change the centre")
        )
        self.active_button = button(self.tr("&Disable"), "centreActiveButton", self.tr("Disable"))
        self.add_button.clicked.connect(self.add_centre)
        self.edit_button.clicked.connect(self.edit_selected)
        self.active_button.clicked.connect(self.toggle_active)
        self.add_buttons(self.add_button, self.edit_button, self.active_button)

    def read(self, desk: Desk) -> list[Any]:
        return desk.admin.service_centres()

    def _update_buttons(self) -> None:
        info = self.selected()
        self.edit_button.setEnabled(info is not None)
        self.active_button.setEnabled(info is not None)
        retitle(
            self.active_button,
            self.tr("&Enable") if info is not None and not info.active else self.tr("&Disable"),
        )

    def add_centre(self) -> None:
        dialog = CentreDialog(self.ops, None, parent=self.window())
        dialog.saved.connect(
            lambda info: self._added(
                info.id,
                self.tr("{name} ({code}) was added; staff can now be given this centre.").format(
                    name=info.name, code=info.code
                ),
            )
        )
        self._open(dialog)

    def edit_selected(self) -> None:
        info = self.selected()
        if info is None:
            return
        dialog = CentreDialog(self.ops, info, parent=self.window())
        dialog.saved.connect(
            lambda saved: self.message.info(
                self.tr("{name} ({code}) was changed.").format(name=saved.name, code=saved.code)
            )
        )
        dialog.staleSeen.connect(self.reload)
        self._open(dialog)

    def toggle_active(self) -> None:
        info = self.selected()
        if info is None:
            return
        code, enable = info.code, not info.active
        self.active_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.set_centre_active(code, enable),
            on_success=self._active_changed,
            on_error=self._write_failed,
            owner=self,
            label=self.tr("Changing the centre…"),
        )

    def _active_changed(self, info: CentreInfo) -> None:
        if info.active:
            text = self.tr("{name} is in use again.")
        else:
            text = self.tr("{name} is no longer offered for staff or cases; Enable undoes it.")
        self.message.info(text.format(name=info.name))
        self._update_buttons()


class _StaleAware(FieldDialog):
    """A dialog that changes a record from a copy: on a conflict it says what the other admin
    changed, shows it in the fields this admin left alone, and keeps this admin's own."""

    saved = Signal(object)
    staleSeen = Signal()  # another admin's change was found: the list should reload

    base: Any  # the record as the admin saw it (None: a new one)
    captions: dict[str, str]  # field key -> what to call it when saying what changed

    def fields_of(self, item: Any) -> dict[str, str]:
        """The record's values by field key, as the dialog's line edits show them."""
        raise NotImplementedError

    @staticmethod
    def fresh(desk: Desk, item_id: int) -> Any:
        """The record as stored now (run on the worker thread: touches no widget)."""
        raise NotImplementedError

    def edits(self) -> dict[str, QLineEdit]:
        return {
            key: widget for key, (widget, _) in self.fields.items() if isinstance(widget, QLineEdit)
        }

    def typed(self) -> dict[str, str]:
        return {key: widget.text().strip() for key, widget in self.edits().items()}

    def unchanged(self) -> bool:
        return self.base is not None and self.typed() == self.fields_of(self.base)

    def done_with(self, info: Any) -> None:
        self.set_busy(False)
        self.saved.emit(info)
        self.accept()

    def refused(self, exc: BaseException) -> None:
        if not isinstance(exc, ConflictError):
            self.failed(exc)
            return
        message = str(exc) + _changed_by(exc)
        self.general.show_message(message)
        self.fit()
        self.staleSeen.emit()
        item_id, fetch = self.base.id, self.fresh
        self.ops.query(
            lambda d: fetch(d, item_id),
            on_success=lambda fresh: self._rebase(message, fresh),
            on_error=self.failed,
            owner=self,
        )

    def _rebase(self, message: str, fresh: Any) -> None:
        old, new = self.fields_of(self.base), self.fields_of(fresh)
        differences = [
            self.tr("{what}: {new} (was {old})").format(
                what=self.captions[key], new=new[key] or "-", old=old[key] or "-"
            )
            for key in old
            if old[key] != new[key]
        ]
        for key, widget in self.edits().items():
            if widget.text().strip() == old[key]:  # what this admin left alone follows theirs
                widget.setText(new[key])
        self.base = fresh
        if differences:
            message += " " + self.tr("Now: {changes}.").format(changes="; ".join(differences))
        message += " " + self.tr("Your changes are kept; Save applies them to the new version.")
        self.set_busy(False)
        self.general.show_message(message)
        self.fit()


class CentreDialog(_StaleAware):
    """Add a centre (``base`` None) or change one."""

    def __init__(
        self, ops: Operations, base: CentreInfo | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(ops, parent)
        self.base = base
        self.setObjectName("centreDialog")
        self.setMinimumWidth(560)
        if base is None:
            self.setWindowTitle(self.tr("Add a service centre"))
        else:
            self.setWindowTitle(self.tr("Change {name}").format(name=base.name))
        self.captions = {
            "code": self.tr("code"),
            "name": self.tr("name"),
            "address": self.tr("address"),
            "phone": self.tr("phone"),
            "email": self.tr("e-mail"),
            "opening_hours": self.tr("opening hours"),
        }
        self.code = _line("centreCode", self.tr("Code"), self.tr("2 to 20 letters or digits"))
        self.name = _line("centreName", self.tr("Name"))
        self.address = _line("centreAddress", self.tr("Address"))
        self.phone = _line("centrePhone", self.tr("Phone"))
        self.email = _line("centreEmail", self.tr("E-mail"))
        self.opening_hours = _line(
            "centreOpeningHours", self.tr("Opening hours"), self.tr("e.g. Mon–Fri 09:00–17:00")
        )
        self.add_field("code", self.tr("&Code:"), self.code)
        self.add_field("name", self.tr("&Name:"), self.name)
        self.add_field("address", self.tr("A&ddress:"), self.address)
        self.add_field("phone", self.tr("&Phone:"), self.phone)
        self.add_field("email", self.tr("&E-mail:"), self.email)
        self.add_field("opening_hours", self.tr("&Opening hours:"), self.opening_hours)
        if base is not None:
            for key, value in self.fields_of(base).items():
                self.edits()[key].setText(value)
        self.finish_layout(
            self.tr("&Add") if base is None else self.tr("&Save"), "centreSaveButton"
        )
        (self.code if base is None else self.name).setFocus()

    def fields_of(self, item: CentreInfo) -> dict[str, str]:
        return {
            "code": item.code,
            "name": item.name,
            "address": item.address,
            "phone": item.phone,
            "email": item.email,
            "opening_hours": item.opening_hours,
        }

    @staticmethod
    def fresh(desk: Desk, item_id: int) -> CentreInfo:
        return next(c for c in desk.admin.service_centres() if c.id == item_id)

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        if self.unchanged():
            self.show_error("", self.tr("Nothing was changed."))
            return
        details = CentreDetails(**self.typed())
        base = self.base
        self.set_busy(True)
        if base is None:
            self.ops.write(
                lambda d: d.admin.add_centre(details),
                on_success=self.done_with,
                on_error=self.failed,
                owner=self,
                label=self.tr("Adding the centre…"),
            )
        else:
            code, expected = base.code, base.details
            self.ops.write(
                lambda d: d.admin.update_centre(code, details, expected=expected),
                on_success=self.done_with,
                on_error=self.refused,
                owner=self,
                label=self.tr("Saving the centre…"),
            )


# --- specialist teams ----------------------------------------------------------------------------

TEAM_COLUMNS = ("Team", "E-mail", "State")


def _team_cells(info: TeamInfo) -> tuple[str, ...]:
    state = state_text(info.active)
    return (info.name, info.email, state if not info.active else tr("Takes referrals"))


class TeamsTab(_ListTab):
    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(
            ops,
            object_name="adminTeamsTab",
            table_name="teamsTable",
            table_caption=tr("Specialist teams"),
            columns=TEAM_COLUMNS,
            cells=_team_cells,
            parent=parent,
        )
        self.intro.setText(
            self.tr(
                "The specialist teams cases are referred to. A disabled team takes no new "
                "referrals; the cases it holds stay with it. Enter renames the selected team."
            )
        )
        self.add_button = button(self.tr("&Add team…"), "teamAddButton", self.tr("Add a team"))
        self.edit_button = button(self.tr("&Rename…"), "teamEditButton", self.tr("Rename the team"))
        self.active_button = button(self.tr("&Disable"), "teamActiveButton", self.tr("Disable"))
        self.add_button.clicked.connect(self.add_team)
        self.edit_button.clicked.connect(self.edit_selected)
        self.active_button.clicked.connect(self.toggle_active)
        self.add_buttons(self.add_button, self.edit_button, self.active_button)

    def read(self, desk: Desk) -> list[Any]:
        return desk.admin.teams()

    def _update_buttons(self) -> None:
        info = self.selected()
        self.edit_button.setEnabled(info is not None)
        self.active_button.setEnabled(info is not None)
        retitle(
            self.active_button,
            self.tr("&Enable") if info is not None and not info.active else self.tr("&Disable"),
        )

    def add_team(self) -> None:
        dialog = TeamDialog(self.ops, None, parent=self.window())
        dialog.saved.connect(
            lambda info: self._added(
                info.id,
                self.tr("{name} was added; cases can now be referred to it.").format(
                    name=info.name
                ),
            )
        )
        self._open(dialog)

    def edit_selected(self) -> None:
        info = self.selected()
        if info is None:
            return
        dialog = TeamDialog(self.ops, info, parent=self.window())
        dialog.saved.connect(
            lambda saved: self.message.info(
                self.tr("The team is now called {name}.").format(name=saved.name)
            )
        )
        dialog.staleSeen.connect(self.reload)
        self._open(dialog)

    def toggle_active(self) -> None:
        info = self.selected()
        if info is None:
            return
        team_id, enable = info.id, not info.active
        self.active_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.set_team_active(team_id, enable),
            on_success=self._active_changed,
            on_error=self._write_failed,
            owner=self,
            label=self.tr("Changing the team…"),
        )

    def _active_changed(self, info: TeamInfo) -> None:
        if info.active:
            text = self.tr("{name} takes referrals again.")
        else:
            text = self.tr("{name} takes no new referrals; Enable undoes it.")
        self.message.info(text.format(name=info.name))
        self._update_buttons()


class TeamDialog(_StaleAware):
    """Add a team (``base`` None), or rename one and change its e-mail."""

    def __init__(
        self, ops: Operations, base: TeamInfo | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(ops, parent)
        self.base = base
        self.setObjectName("teamDialog")
        self.setMinimumWidth(460)
        if base is None:
            self.setWindowTitle(self.tr("Add a specialist team"))
        else:
            self.setWindowTitle(self.tr("Rename {name}").format(name=base.name))
        self.captions = {"name": self.tr("name"), "email": self.tr("e-mail")}
        self.name = _line("teamName", self.tr("Name of the team"))
        self.email = _line("teamEmail", self.tr("E-mail"), self.tr("where referrals are sent"))
        self.add_field("name", self.tr("&Name:"), self.name)
        self.add_field("email", self.tr("&E-mail:"), self.email)
        if base is not None:
            self.name.setText(base.name)
            self.email.setText(base.email)
        self.finish_layout(self.tr("&Add") if base is None else self.tr("&Save"), "teamSaveButton")
        self.name.setFocus()
        self.name.selectAll()

    def fields_of(self, item: TeamInfo) -> dict[str, str]:
        return {"name": item.name, "email": item.email}

    @staticmethod
    def fresh(desk: Desk, item_id: int) -> TeamInfo:
        return next(t for t in desk.admin.teams() if t.id == item_id)

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        if self.unchanged():
            self.show_error("", self.tr("Nothing was changed."))
            return
        name, email = self.name.text(), self.email.text()
        base = self.base
        self.set_busy(True)
        if base is None:
            self.ops.write(
                lambda d: d.admin.add_team(name, email),
                on_success=self.done_with,
                on_error=self.failed,
                owner=self,
                label=self.tr("Adding the team…"),
            )
        else:
            team_id = base.id
            self.ops.write(
                lambda d: d.admin.update_team(team_id, name=name, email=email, expected=base),
                on_success=self.done_with,
                on_error=self.refused,
                owner=self,
                label=self.tr("Saving the team…"),
            )


# --- case categories -----------------------------------------------------------------------------


class CategoriesTab(QWidget):
    """The categories as a tree: main categories in the order the case form lists them, each with
    its subcategories. Arrow keys move through it; the buttons act on the current one."""

    loadingChanged = Signal(bool)
    loaded = Signal()

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminCategoriesTab")
        self.categories: list[CategoryInfo] = []
        self.dialog: _FieldDialog | None = None
        self.loading = False
        self._reload_again = False
        self._select_after_load: int | None = None

        intro = QLabel(
            self.tr(
                "Case categories and their subcategories, in the order the case form offers "
                "them. A disabled category (with its subcategories) is no longer offered for "
                "new cases; cases already filed under it keep it. Enter renames the current one."
            )
        )
        intro.setWordWrap(True)
        intro.setProperty("role", "hint")
        self.tree = QTreeWidget()
        self.tree.setObjectName("categoryTree")
        self.tree.setAccessibleName(self.tr("Case categories"))
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Category"), self.tr("State")])
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.tree.itemActivated.connect(lambda *_: self.rename_selected())
        caption = QLabel(self.tr("Ca&tegories:"))
        caption.setBuddy(self.tree)

        self.new_button = button(
            self.tr("&New category…"), "categoryNewButton", self.tr("New category")
        )
        self.new_sub_button = button(
            self.tr("New &subcategory…"), "categoryNewSubButton", self.tr("New subcategory")
        )
        self.rename_button = button(
            self.tr("&Rename…"), "categoryRenameButton", self.tr("Rename the category")
        )
        self.up_button = button(self.tr("Move &up"), "categoryUpButton", self.tr("Move up"))
        self.down_button = button(self.tr("Move do&wn"), "categoryDownButton", self.tr("Move down"))
        self.active_button = button(self.tr("&Disable"), "categoryActiveButton", self.tr("Disable"))
        self.new_button.clicked.connect(self.new_category)
        self.new_sub_button.clicked.connect(self.new_subcategory)
        self.rename_button.clicked.connect(self.rename_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.active_button.clicked.connect(self.toggle_active)
        self.message = MessageLine("categoriesMessage")

        actions = QHBoxLayout()
        for widget in (
            self.new_button,
            self.new_sub_button,
            self.rename_button,
            self.up_button,
            self.down_button,
            self.active_button,
        ):
            actions.addWidget(widget)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(caption)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        self._update_buttons()

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True
            return
        self._set_loading(True)
        self.ops.query(
            lambda d: d.admin.category_tree(),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading categories…"),
        )

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loadingChanged.emit(loading)

    def _loaded(self, categories: list[CategoryInfo]) -> None:
        current = self.selected()
        keep = self._select_after_load or (current.id if current is not None else None)
        self._select_after_load = None
        collapsed = {
            self.tree.topLevelItem(i).data(0, ID_ROLE)
            for i in range(self.tree.topLevelItemCount())
            if not self.tree.topLevelItem(i).isExpanded()
        }
        self.categories = categories
        self.tree.clear()
        for main in categories:
            item = self._item(main, parent_active=True)
            self.tree.addTopLevelItem(item)
            for sub in main.subcategories:
                item.addChild(self._item(sub, parent_active=main.active))
            item.setExpanded(main.id not in collapsed)
        if keep is not None:
            self.select(keep)
        if self.tree.currentItem() is None and self.tree.topLevelItemCount():
            self.tree.setCurrentItem(self.tree.topLevelItem(0))
        self._update_buttons()
        self._finish_loading()
        self.loaded.emit()

    def _item(self, info: CategoryInfo, *, parent_active: bool) -> QTreeWidgetItem:
        if not info.active:
            state = state_text(False)
        elif not parent_active:
            state = self.tr("Disabled with its category")
        else:
            state = state_text(True)
        item = QTreeWidgetItem([info.name, state])
        item.setData(0, ID_ROLE, info.id)
        for column in (0, 1):
            item.setData(column, Qt.ItemDataRole.AccessibleTextRole, f"{info.name}, {state}")
            if not (info.active and parent_active):
                item.setForeground(column, QBrush(Qt.GlobalColor.darkGray))
        return item

    def _load_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._finish_loading()

    def _finish_loading(self) -> None:
        self._set_loading(False)
        if self._reload_again:
            self._reload_again = False
            self.reload()

    # --- selection ---------------------------------------------------------------------------

    def info(self, category_id: int) -> CategoryInfo | None:
        for main in self.categories:
            for info in (main, *main.subcategories):
                if info.id == category_id:
                    return info
        return None

    def parent_of(self, info: CategoryInfo) -> CategoryInfo | None:
        return self.info(info.parent_id) if info.parent_id is not None else None

    def siblings(self, info: CategoryInfo) -> tuple[CategoryInfo, ...]:
        parent = self.parent_of(info)
        return parent.subcategories if parent is not None else tuple(self.categories)

    def selected(self) -> CategoryInfo | None:
        item = self.tree.currentItem()
        return self.info(int(item.data(0, ID_ROLE))) if item is not None else None

    def item_of(self, category_id: int) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            main = self.tree.topLevelItem(i)
            for item in (main, *(main.child(j) for j in range(main.childCount()))):
                if item.data(0, ID_ROLE) == category_id:
                    return item
        return None

    def select(self, category_id: int) -> None:
        item = self.item_of(category_id)
        if item is not None:
            self.tree.setCurrentItem(item)

    def _update_buttons(self) -> None:
        info = self.selected()
        main = info if info is None or info.parent_id is None else self.parent_of(info)
        for widget in (self.rename_button, self.active_button):
            widget.setEnabled(info is not None)
        self.new_sub_button.setEnabled(main is not None and main.active)
        siblings = self.siblings(info) if info is not None else ()
        self.up_button.setEnabled(info is not None and info.position > 0)
        self.down_button.setEnabled(info is not None and info.position < len(siblings) - 1)
        retitle(
            self.active_button,
            self.tr("&Enable") if info is not None and not info.active else self.tr("&Disable"),
        )

    # --- actions -----------------------------------------------------------------------------

    def _open(self, dialog: _FieldDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self.tree.setFocus())
        dialog.open()
        dialog.activateWindow()

    def new_category(self) -> None:
        self._new(None)

    def new_subcategory(self) -> None:
        info = self.selected()
        if info is not None:
            self._new(info.parent_id if info.parent_id is not None else info.id)

    def _new(self, parent_id: int | None) -> None:
        dialog = CategoryDialog(self.ops, self.categories, parent_id, parent=self.window())
        dialog.saved.connect(self._added)
        self._open(dialog)

    def _added(self, info: CategoryInfo) -> None:
        parent = self.parent_of(info)
        if parent is None:
            text = self.tr("{name} was added at the end of the categories.")
        else:
            text = self.tr("{name} was added at the end of {parent}.")
        self.message.info(text.format(name=info.name, parent=parent.name if parent else ""))
        self._select_after_load = info.id

    def rename_selected(self) -> None:
        info = self.selected()
        if info is None:
            return
        dialog = RenameCategoryDialog(self.ops, info, parent=self.window())
        dialog.saved.connect(
            lambda saved: self.message.info(
                self.tr("The category is now called {name}.").format(name=saved.name)
            )
        )
        dialog.staleSeen.connect(self.reload)
        self._open(dialog)

    def move_selected(self, steps: int) -> None:
        info = self.selected()
        if info is None:
            return
        category_id = info.id
        self.up_button.setEnabled(False)
        self.down_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.move_category(category_id, steps),
            on_success=lambda moved: self._moved(moved, steps),
            on_error=self._write_failed,
            owner=self,
            label=self.tr("Moving the category…"),
        )

    def _moved(self, info: CategoryInfo, steps: int) -> None:
        text = self.tr("{name} moved up.") if steps < 0 else self.tr("{name} moved down.")
        self.message.info(text.format(name=info.name))
        self._select_after_load = info.id

    def toggle_active(self) -> None:
        info = self.selected()
        if info is None:
            return
        category_id, enable = info.id, not info.active
        self.active_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.set_category_active(category_id, enable),
            on_success=self._active_changed,
            on_error=self._write_failed,
            owner=self,
            label=self.tr("Changing the category…"),
        )

    def _active_changed(self, info: CategoryInfo) -> None:
        if info.active:
            text = self.tr("{name} is offered for new cases again.")
        else:
            text = self.tr("{name} is no longer offered for new cases; Enable undoes it.")
        self.message.info(text.format(name=info.name))
        self._update_buttons()

    def _write_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._update_buttons()


class CategoryDialog(FieldDialog):
    """A new main category, or a subcategory of the one chosen under "Under"."""

    saved = Signal(object)  # CategoryInfo

    def __init__(
        self,
        ops: Operations,
        categories: list[CategoryInfo],
        parent_id: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ops, parent)
        self.setObjectName("categoryDialog")
        self.setMinimumWidth(460)
        self.setWindowTitle(
            self.tr("New category") if parent_id is None else self.tr("New subcategory")
        )
        self.name = _line("categoryName", self.tr("Name of the category"))
        self.under = QComboBox()
        self.under.setObjectName("categoryParent")
        self.under.setAccessibleName(self.tr("Under"))
        self.under.addItem(self.tr("(nothing: a main category)"), 0)
        for main in categories:
            if main.active or main.id == parent_id:
                self.under.addItem(main.name, main.id)
        self.under.setCurrentIndex(max(0, self.under.findData(parent_id or 0)))
        self.add_field("name", self.tr("&Name:"), self.name)
        self.add_field("parent", self.tr("&Under:"), self.under)
        self.finish_layout(self.tr("&Add"), "categorySaveButton")
        self.name.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        name = self.name.text()
        parent_id = int(self.under.currentData() or 0) or None
        self.set_busy(True)
        self.ops.write(
            lambda d: d.admin.add_category(name, parent_id=parent_id),
            on_success=self._added,
            on_error=self.failed,
            owner=self,
            label=self.tr("Adding the category…"),
        )

    def _added(self, info: CategoryInfo) -> None:
        self.set_busy(False)
        self.saved.emit(info)
        self.accept()


class RenameCategoryDialog(_StaleAware):
    def __init__(self, ops: Operations, base: CategoryInfo, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.base = base
        self.setObjectName("renameCategoryDialog")
        self.setMinimumWidth(460)
        self.setWindowTitle(self.tr("Rename {name}").format(name=base.name))
        self.captions = {"name": self.tr("name")}
        self.name = _line("renameCategoryName", self.tr("New name"))
        self.name.setText(base.name)
        self.add_field("name", self.tr("&Name:"), self.name)
        self.finish_layout(self.tr("&Rename"), "renameCategoryButton")
        self.name.setFocus()
        self.name.selectAll()

    def fields_of(self, item: CategoryInfo) -> dict[str, str]:
        return {"name": item.name}

    @staticmethod
    def fresh(desk: Desk, item_id: int) -> CategoryInfo:
        for main in desk.admin.category_tree():
            for info in (main, *main.subcategories):
                if info.id == item_id:
                    return info
        raise LookupError(item_id)

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        if self.unchanged():
            self.show_error("", self.tr("Nothing was changed."))
            return
        name, category_id, expected = self.name.text(), self.base.id, self.base.name
        self.set_busy(True)
        self.ops.write(
            lambda d: d.admin.rename_category(category_id, name, expected_name=expected),
            on_success=self.done_with,
            on_error=self.refused,
            owner=self,
            label=self.tr("Renaming the category…"),
        )
