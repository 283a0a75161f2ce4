"""The admin console's staff tab: the accounts, and the dialogs that add and change them.

Bad input comes back from the admin service as ``AdminInputError`` naming the field it concerns;
the dialog shows the message under that field and keeps everything typed. A change made from a
stale copy (another admin changed the account meanwhile) is refused by the service; the dialog
says who changed what, reloads, and keeps the admin's own choices for a deliberate second try.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.services.admin import AdminInputError, CentreChoice, NewStaff, RoleInfo, StaffInfo
from desk.services.errors import ConflictError
from ui.admin_common import MessageLine, button, error_text, labelled, plain, retitle, tr
from ui.labels import local_time
from ui.widgets import FieldError

if TYPE_CHECKING:
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("User", "Name", "Role", "Centre", "Supervisor", "State")
USERNAME_ROLE = Qt.ItemDataRole.UserRole + 1


def state_text(info: StaffInfo) -> str:
    parts = [tr("Active") if info.active else tr("Disabled")]
    if info.must_change_password:
        parts.append(tr("must change password"))
    if not info.has_login:
        parts.append(tr("no login yet"))
    if info.away_until is not None and info.away_until >= dt.date.today():
        parts.append(
            tr("away {first} to {last}, {deputy} deputises").format(
                first=f"{info.away_from:%d %b}",
                last=f"{info.away_until:%d %b}",
                deputy=info.deputy or "",
            )
        )
    return ", ".join(parts)


class StaffModel(QAbstractTableModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[StaffInfo] = []
        self._names: dict[str, str] = {}

    def set_staff(self, staff: list[StaffInfo]) -> None:
        self.beginResetModel()
        self.rows = list(staff)
        self._names = {s.username: s.full_name for s in staff}
        self.endResetModel()

    def supervisor_text(self, info: StaffInfo) -> str:
        if not info.supervisor:
            return ""
        name = self._names.get(info.supervisor, "")
        return f"{name} ({info.supervisor})" if name else info.supervisor

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

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        info = self.rows[index.row()]
        if role == USERNAME_ROLE:
            return info.username
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (
                info.username,
                info.full_name,
                info.role,
                info.centre,
                self.supervisor_text(info),
                state_text(info),
            )[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and not info.active:
            return Qt.GlobalColor.darkGray
        return None


class StaffTab(QWidget):
    """Emits ``loadingChanged`` while its data is being read."""

    loadingChanged = Signal(bool)
    loaded = Signal()

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminStaffTab")
        self.roles: list[RoleInfo] = []
        self.centres: list[CentreChoice] = []
        self.dialog: QDialog | None = None
        self.loading = False
        self._reload_again = False
        self._select_after_load = ""

        self.filter = QLineEdit()
        self.filter.setObjectName("staffFilter")
        self.filter.setAccessibleName(self.tr("Find staff"))
        self.filter.setPlaceholderText(self.tr("user, name, role, centre… (Ctrl+F)"))
        self.filter.setClearButtonEnabled(True)
        filter_label = QLabel(self.tr("&Find:"))
        filter_label.setBuddy(self.filter)

        self.model = StaffModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setObjectName("staffTable")
        self.table.setAccessibleName(self.tr("Staff accounts"))
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setTabKeyNavigation(False)
        self.table.activated.connect(lambda _index: self.edit_selected())

        self.add_button = button(self.tr("&Add…"), "staffAddButton", self.tr("Add a staff member"))
        self.active_button = button(self.tr("&Disable"), "staffActiveButton", self.tr("Disable"))
        self.password_button = button(
            self.tr("Reset &password…"), "staffPasswordButton", self.tr("Reset password")
        )
        self.edit_button = button(
            self.tr("&Change account…"),
            "staffEditButton",
            self.tr("Change name, role, centre, supervisor or script language"),
        )
        self.edit_button.setToolTip(
            self.tr("Name, role, centre, supervisor and script language (Enter)")
        )
        self.leave_button = button(
            self.tr("&Leave…"), "staffLeaveButton", self.tr("Leave and deputy")
        )
        self.leave_button.setToolTip(
            self.tr("The days this person is away, and who decides in their place")
        )
        self.leave_button.clicked.connect(self.edit_leave)
        self.add_button.clicked.connect(self.add_staff)
        self.active_button.clicked.connect(self.toggle_active)
        self.password_button.clicked.connect(self.reset_password)
        self.edit_button.clicked.connect(self.edit_selected)
        self.message = MessageLine("staffMessage")

        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter, 1)
        actions = QHBoxLayout()
        for widget in (self.add_button, self.edit_button, self.leave_button, self.password_button):
            actions.addWidget(widget)
        actions.addWidget(self.active_button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self._update_buttons()

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True  # a change landed while reading: read once more after
            return
        self._set_loading(True)
        self.ops.query(
            lambda d: (d.admin.staff(), d.admin.roles(), d.admin.centres()),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading staff…"),
        )

    def _set_loading(self, loading: bool) -> None:
        self.loading = loading
        self.loadingChanged.emit(loading)

    def _loaded(self, data: tuple[list[StaffInfo], list[RoleInfo], list[CentreChoice]]) -> None:
        staff, self.roles, self.centres = data
        current = self.selected()
        keep = self._select_after_load or (current.username if current else "")
        self._select_after_load = ""
        self.model.set_staff(staff)
        if keep:
            self.select(keep)
        if not self.table.currentIndex().isValid() and self.proxy.rowCount():
            self.table.setCurrentIndex(self.proxy.index(0, 0))
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

    def selected(self) -> StaffInfo | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        username = self.proxy.data(index, USERNAME_ROLE)
        return self.info(str(username))

    def info(self, username: str) -> StaffInfo | None:
        return next((s for s in self.model.rows if s.username == username), None)

    def select(self, username: str) -> None:
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if self.proxy.data(index, USERNAME_ROLE) == username:
                self.table.setCurrentIndex(index)
                self.table.selectRow(row)
                return

    def _update_buttons(self) -> None:
        info = self.selected()
        for widget in (
            self.active_button,
            self.password_button,
            self.edit_button,
            self.leave_button,
        ):
            widget.setEnabled(info is not None)
        retitle(
            self.active_button,
            self.tr("&Enable") if info is not None and not info.active else self.tr("&Disable"),
        )

    # --- actions -----------------------------------------------------------------------------

    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(lambda _result: self.table.setFocus())
        dialog.open()
        dialog.activateWindow()

    def add_staff(self) -> None:
        dialog = AddStaffDialog(
            self.ops, self.roles, self.centres, self.model.rows, parent=self.window()
        )
        dialog.added.connect(self._added)
        self._open(dialog)

    def _added(self, info: StaffInfo) -> None:
        self.message.info(
            self.tr(
                "{name} ({user}) can log in now with the temporary password and must choose "
                "their own at the first login."
            ).format(name=info.full_name, user=info.username)
        )
        self.filter.clear()
        self._select_after_load = info.username  # the reload after the write shows them

    def toggle_active(self) -> None:
        info = self.selected()
        if info is None:
            return
        enable = not info.active
        self.active_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.set_staff_active(info.username, enable),
            on_success=self._active_changed,
            on_error=self._action_failed,
            owner=self,
            label=self.tr("Changing the account…"),
        )

    def _active_changed(self, info: StaffInfo) -> None:
        if info.active:
            text = self.tr("{name} can log in again.")
        else:
            text = self.tr("{name} can no longer log in; Enable undoes it.")
        self.message.info(text.format(name=info.full_name))
        self._update_buttons()

    def _action_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._update_buttons()

    def reset_password(self) -> None:
        info = self.selected()
        if info is not None:
            dialog = PasswordDialog(self.ops, info, parent=self.window())
            dialog.done_for.connect(
                lambda who: self.message.info(
                    self.tr(
                        "{name} must log in with the temporary password and choose a new one."
                    ).format(name=who.full_name)
                )
            )
            self._open(dialog)

    def edit_leave(self) -> None:
        from ui.leave_dialog import LeaveDialog

        info = self.selected()
        if info is not None:
            dialog = LeaveDialog(self.ops, username=info.username, parent=self.window())
            dialog.saved.connect(
                lambda who: self.message.info(
                    self.tr("{name}'s leave was saved.").format(name=info.full_name)
                )
            )
            self._open(dialog)

    def edit_selected(self) -> None:
        info = self.selected()
        if info is not None:
            dialog = EditStaffDialog(
                self.ops, info, self.roles, self.centres, self.model.rows, parent=self.window()
            )
            dialog.saved.connect(
                lambda who: self.message.info(
                    self.tr("{name}'s account was changed.").format(name=who.full_name)
                )
            )
            dialog.staleSeen.connect(self.reload)
            self._open(dialog)


# --- the dialogs -------------------------------------------------------------------------------


def _fill_roles(combo: QComboBox, roles: list[RoleInfo], current: str | None) -> None:
    for role in roles:
        combo.addItem(role.name, role.name)
    if current is not None and combo.findData(current) >= 0:
        combo.setCurrentIndex(combo.findData(current))


def _fill_centres(combo: QComboBox, centres: list[CentreChoice], current: str | None) -> None:
    for centre in centres:
        combo.addItem(f"{centre.name} ({centre.code})", centre.code)
    if current is not None and combo.findData(current) >= 0:
        combo.setCurrentIndex(combo.findData(current))


def _fill_supervisors(
    combo: QComboBox, staff: list[StaffInfo], current: str | None, *, exclude: str = ""
) -> None:
    combo.addItem(tr("(nobody)"), "")
    for person in sorted(staff, key=lambda s: s.full_name.casefold()):
        if person.username != exclude and person.active:
            combo.addItem(f"{person.full_name} ({person.username})", person.username)
    if current and combo.findData(current) < 0:  # a disabled supervisor stays shown
        combo.addItem(current, current)
    combo.setCurrentIndex(max(0, combo.findData(current or "")))


# Offered in the script language field; any other code (such as pt-BR) can be typed.
SCRIPT_LANGUAGES = ("en", "es", "fr", "de", "pt", "it", "nl", "pl", "ar", "zh")


def _language_combo(object_name: str, current: str) -> QComboBox:
    """An editable list of language codes; the first entry (empty) is the computer's language."""
    combo = QComboBox()
    combo.setObjectName(object_name)
    combo.setAccessibleName(tr("Script language"))
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItem(tr("Computer's language"), "")
    for code in SCRIPT_LANGUAGES:
        combo.addItem(code, code)
    if current and combo.findData(current) < 0:
        combo.addItem(current, current)
    combo.setCurrentIndex(max(0, combo.findData(current)))
    line = combo.lineEdit()
    if line is not None:
        line.setObjectName(f"{object_name}Edit")
        line.setAccessibleName(tr("Script language"))
        line.setPlaceholderText(tr("Computer's language"))
    return combo


def language_of(combo: QComboBox) -> str:
    """The code typed or chosen ("" for the computer's language)."""
    text = combo.currentText().strip()
    if not text or text == combo.itemText(0):
        return ""
    index = combo.findText(text)
    return str(combo.itemData(index)) if index >= 0 else text


def _combo(object_name: str, accessible_name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(object_name)
    combo.setAccessibleName(accessible_name)
    return combo


def _line(object_name: str, accessible_name: str, *, password: bool = False) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(object_name)
    edit.setAccessibleName(accessible_name)
    if password:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class _FieldDialog(QDialog):
    """A dialog whose fields each have an error line; errors from the service land under the
    field they name, anything else on the line above the buttons."""

    def __init__(self, ops: Operations, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.fields: dict[str, tuple[QWidget, FieldError]] = {}
        self.form = QFormLayout()
        self.general = FieldError("adminDialogError")
        self.busy = False

    def add_field(self, key: str, caption: str, widget: QWidget, *extra: QWidget) -> None:
        error = FieldError(f"{widget.objectName()}Error")
        labelled(self.form, caption, widget, error, *extra)
        self.fields[key] = (widget, error)

    def finish_layout(self, accept_text: str, accept_name: str) -> QPushButton:
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName(f"{self.objectName()}Cancel")
        cancel.setAccessibleName(self.tr("Cancel"))
        self.accept_button = buttons.addButton(accept_text, QDialogButtonBox.ButtonRole.AcceptRole)
        self.accept_button.setObjectName(accept_name)
        self.accept_button.setAccessibleName(plain(accept_text))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        # Only once the box is in the dialog: set earlier, Qt makes Cancel the default instead
        # and Enter in a field would throw away what was typed.
        self.accept_button.setDefault(True)
        return self.accept_button

    def clear_errors(self) -> None:
        self.general.clear_message()
        for _, error in self.fields.values():
            error.clear_message()

    def show_error(self, field: str, message: str) -> None:
        """Under the field it concerns (and focus it), else above the buttons."""
        if field in self.fields:
            widget, error = self.fields[field]
            error.show_message(message)
            widget.setFocus()
        else:
            self.general.show_message(message)
        self.fit()

    def fit(self) -> None:
        """Grow to show every wrapped message whole (a layout does not grow a shown window
        for text that wraps)."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        wanted = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() else -1
        if wanted > self.height():
            self.resize(self.width(), wanted)

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.accept_button.setEnabled(not busy)

    def failed(self, exc: BaseException) -> None:
        self.set_busy(False)
        field = exc.field if isinstance(exc, AdminInputError) else ""
        self.show_error(field, error_text(exc))

    def submit(self) -> None:
        raise NotImplementedError


class AddStaffDialog(_FieldDialog):
    added = Signal(object)  # StaffInfo

    def __init__(
        self,
        ops: Operations,
        roles: list[RoleInfo],
        centres: list[CentreChoice],
        staff: list[StaffInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ops, parent)
        self.setObjectName("addStaffDialog")
        self.setWindowTitle(self.tr("Add a staff member"))
        self.setMinimumWidth(520)
        self.username = _line("newStaffUsername", self.tr("User name"))
        self.username.setPlaceholderText(self.tr("lower-case letters and digits, e.g. jsmith"))
        self.full_name = _line("newStaffFullName", self.tr("Full name"))
        self.role = _combo("newStaffRole", self.tr("Role"))
        lowest = min(roles, key=lambda r: r.rank).name if roles else None
        _fill_roles(
            self.role,
            roles,
            "Counter Officer" if "Counter Officer" in (r.name for r in roles) else lowest,
        )
        self.centre = _combo("newStaffCentre", self.tr("Centre"))
        _fill_centres(self.centre, centres, None)
        self.supervisor = _combo("newStaffSupervisor", self.tr("Supervisor"))
        _fill_supervisors(self.supervisor, staff, None)
        self.email = _line("newStaffEmail", self.tr("E-mail"))
        self.password = _line("newStaffPassword", self.tr("Temporary password"), password=True)
        self.repeat = _line("newStaffRepeat", self.tr("Repeat the password"), password=True)
        self.add_field("username", self.tr("&User name:"), self.username)
        self.add_field("full_name", self.tr("&Full name:"), self.full_name)
        self.add_field("role", self.tr("&Role:"), self.role)
        self.add_field("centre", self.tr("&Centre:"), self.centre)
        self.add_field("supervisor", self.tr("Su&pervisor:"), self.supervisor)
        self.add_field("email", self.tr("&E-mail:"), self.email)
        hint = QLabel(
            self.tr(
                "At least 12 characters, not containing the user name. The person chooses "
                "their own password at the first login."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")
        self.add_field("password", self.tr("&Temporary password:"), self.password, hint)
        self.add_field("repeat", self.tr("Repeat pass&word:"), self.repeat)
        self.finish_layout(self.tr("&Add"), "addStaffButton")
        self.username.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        if self.password.text() != self.repeat.text():
            self.show_error("repeat", self.tr("The two passwords are not the same."))
            return
        new = NewStaff(
            username=self.username.text(),
            full_name=self.full_name.text(),
            role=str(self.role.currentData() or ""),
            centre_code=str(self.centre.currentData() or ""),
            supervisor=str(self.supervisor.currentData() or "") or None,
            email=self.email.text(),
        )
        password = self.password.text()
        self.set_busy(True)
        self.ops.write(
            lambda d: d.admin.add_staff(new, password),
            on_success=self._added,
            on_error=self.failed,
            owner=self,
            label=self.tr("Adding the staff member…"),
        )

    def _added(self, info: StaffInfo) -> None:
        self.set_busy(False)
        self.added.emit(info)
        self.accept()


class PasswordDialog(_FieldDialog):
    done_for = Signal(object)  # StaffInfo

    def __init__(self, ops: Operations, info: StaffInfo, parent: QWidget | None = None) -> None:
        super().__init__(ops, parent)
        self.info = info
        self.setObjectName("resetPasswordDialog")
        self.setWindowTitle(self.tr("Reset {name}'s password").format(name=info.full_name))
        self.setMinimumWidth(440)
        intro = QLabel(
            self.tr(
                "Give {name} a temporary password; they must choose their own at the next login."
            ).format(name=info.full_name)
        )
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.password = _line("resetPassword", self.tr("Temporary password"), password=True)
        self.repeat = _line("resetRepeat", self.tr("Repeat the password"), password=True)
        self.add_field("password", self.tr("&Temporary password:"), self.password)
        self.add_field("repeat", self.tr("Repeat pass&word:"), self.repeat)
        self.finish_layout(self.tr("&Reset"), "resetPasswordButton")
        self.password.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        if self.password.text() != self.repeat.text():
            self.show_error("repeat", self.tr("The two passwords are not the same."))
            return
        username, password = self.info.username, self.password.text()
        self.set_busy(True)
        self.ops.write(
            lambda d: d.admin.reset_password(username, password),
            on_success=self._done,
            on_error=self.failed,
            owner=self,
            label=self.tr("Resetting the password…"),
        )

    def _done(self, info: StaffInfo) -> None:
        self.set_busy(False)
        self.done_for.emit(info)
        self.accept()


class EditStaffDialog(_FieldDialog):
    """Change a person's name, role, centre, supervisor or script language from the copy the
    admin saw."""

    saved = Signal(object)  # StaffInfo
    staleSeen = Signal()  # another admin's change was found: the list should reload

    def __init__(
        self,
        ops: Operations,
        info: StaffInfo,
        roles: list[RoleInfo],
        centres: list[CentreChoice],
        staff: list[StaffInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(ops, parent)
        self.base = info
        self.setObjectName("editStaffDialog")
        self.setWindowTitle(self.tr("Change {name}'s account").format(name=info.full_name))
        self.setMinimumWidth(520)
        self.full_name = _line("editStaffFullName", self.tr("Full name"))
        self.full_name.setText(info.full_name)
        self.role = _combo("editStaffRole", self.tr("Role"))
        _fill_roles(self.role, roles, info.role)
        self.centre = _combo("editStaffCentre", self.tr("Centre"))
        _fill_centres(self.centre, centres, info.centre_code)
        self.supervisor = _combo("editStaffSupervisor", self.tr("Supervisor"))
        _fill_supervisors(self.supervisor, staff, info.supervisor, exclude=info.username)
        self.language = _language_combo("editStaffLanguage", info.language)
        language_hint = QLabel(
            self.tr(
                "The language the guided scripts are shown in, where a script has it; "
                "a code such as es or pt-BR."
            )
        )
        language_hint.setWordWrap(True)
        language_hint.setProperty("role", "hint")
        self.add_field("full_name", self.tr("&Full name:"), self.full_name)
        self.add_field("role", self.tr("&Role:"), self.role)
        self.add_field("centre", self.tr("&Centre:"), self.centre)
        self.add_field("supervisor", self.tr("Su&pervisor:"), self.supervisor)
        self.add_field("language", self.tr("Script &language:"), self.language, language_hint)
        self.finish_layout(self.tr("&Save"), "editStaffSaveButton")
        self.role.setFocus()

    def changes(self) -> dict[str, Any]:
        base, changes = self.base, {}
        if self.full_name.text().strip() != base.full_name:
            changes["full_name"] = self.full_name.text()
        if self.role.currentData() != base.role:
            changes["role"] = str(self.role.currentData())
        if self.centre.currentData() != base.centre_code:
            changes["centre_code"] = str(self.centre.currentData())
        boss = str(self.supervisor.currentData() or "")
        if boss != (base.supervisor or ""):
            if boss:
                changes["supervisor"] = boss
            else:
                changes["clear_supervisor"] = True
        language = language_of(self.language)
        if language != base.language:
            changes["language"] = language
        return changes

    def submit(self) -> None:
        if self.busy:
            return
        self.clear_errors()
        changes = self.changes()
        if not changes:
            self.show_error("", self.tr("Nothing was changed."))
            return
        username, version = self.base.username, self.base.version
        self.set_busy(True)
        self.ops.write(
            lambda d: d.admin.update_staff(username, expected_version=version, **changes),
            on_success=self._saved,
            on_error=self._refused,
            owner=self,
            label=self.tr("Saving the account…"),
        )

    def _saved(self, info: StaffInfo) -> None:
        self.set_busy(False)
        self.saved.emit(info)
        self.accept()

    def _refused(self, exc: BaseException) -> None:
        if not isinstance(exc, ConflictError):
            self.failed(exc)
            return
        message = str(exc)
        if exc.changed_by:
            message += " " + self.tr("Last changed by {who}{when}.").format(
                who=exc.changed_by,
                when=self.tr(" on {time}").format(time=local_time(exc.changed_at))
                if exc.changed_at
                else "",
            )
        self.general.show_message(message)
        self.fit()
        username = self.base.username
        self.staleSeen.emit()
        self.ops.query(
            lambda d: next(s for s in d.admin.staff() if s.username == username),
            on_success=lambda fresh: self._rebase(message, fresh),
            on_error=self.failed,
            owner=self,
        )

    def _rebase(self, message: str, fresh: StaffInfo) -> None:
        """Say what the other admin changed and show it in the fields the admin left alone; the
        admin's own choices stay, and saving again applies them on top of the fresh account."""
        old = self.base
        differences = [
            self.tr("{what}: {new} (was {old})").format(what=what, new=new or "-", old=was or "-")
            for what, was, new in (
                (self.tr("name"), old.full_name, fresh.full_name),
                (self.tr("role"), old.role, fresh.role),
                (self.tr("centre"), old.centre, fresh.centre),
                (self.tr("supervisor"), old.supervisor, fresh.supervisor),
                (self.tr("script language"), old.language, fresh.language),
                (
                    self.tr("state"),
                    state_text(old) if old.active != fresh.active else "",
                    state_text(fresh) if old.active != fresh.active else "",
                ),
            )
            if was != new
        ]
        # What the admin did not touch follows the other admin's change; their own choices stay.
        if self.full_name.text().strip() == old.full_name:
            self.full_name.setText(fresh.full_name)
        for combo, was, now in (
            (self.role, old.role, fresh.role),
            (self.centre, old.centre_code, fresh.centre_code),
            (self.supervisor, old.supervisor or "", fresh.supervisor or ""),
        ):
            if (combo.currentData() or "") == was and combo.findData(now) >= 0:
                combo.setCurrentIndex(combo.findData(now))
        if language_of(self.language) == old.language:
            if self.language.findData(fresh.language) < 0:
                self.language.addItem(fresh.language, fresh.language)
            self.language.setCurrentIndex(self.language.findData(fresh.language))
        self.base = fresh
        if differences:
            message += " " + self.tr("Now: {changes}.").format(changes="; ".join(differences))
        message += " " + self.tr("Your choices are kept; Save applies them to the new version.")
        self.set_busy(False)
        self.general.show_message(message)
        self.fit()
