"""The admin console's roles tab: the role × permission grid, saved one role at a time.

Ticks the admin changed are kept apart from what the database holds, so a reload (F5, or another
screen's save) shows fresh data without losing them. Each role remembers the version it had when
the admin started changing it; saving sends that version, and a role another admin changed
meanwhile is refused by the service: the tab says who changed what, and keeps the admin's ticks
on top of the fresh role for a deliberate second save.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
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
    QMessageBox,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desk.domain.authority import PERMISSION_LABELS, Permission
from desk.services.admin import AdminInputError, RoleInfo
from desk.services.errors import ConflictError
from ui.admin_common import MessageLine, button, error_text, labelled, plain, retitle, tr
from ui.labels import local_time
from ui.widgets import FieldError

if TYPE_CHECKING:
    from ui.operations import Operations

_Index = QModelIndex | QPersistentModelIndex
PENDING_BACKGROUND = QColor("#fff1b8")


def permission_label(permission: str) -> str:
    return QCoreApplication.translate("Permissions", PERMISSION_LABELS.get(permission, permission))


class PermissionGridModel(QAbstractTableModel):
    """Rows: the permission catalogue; columns: the roles by rank; cells: ticks."""

    pendingChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.permissions: list[str] = [p.value for p in Permission]
        self.roles: list[RoleInfo] = []
        self.overrides: dict[tuple[str, str], bool] = {}
        # The role as it was when the admin first changed it: its version goes with the save.
        self.base: dict[str, RoleInfo] = {}

    # --- the data ----------------------------------------------------------------------------

    def set_roles(self, roles: list[RoleInfo]) -> None:
        """Fresh roles from the database; the admin's unsaved ticks stay where they still differ."""
        self.beginResetModel()
        self.roles = list(roles)
        names = {r.name: r for r in roles}
        self.overrides = {
            (role, permission): value
            for (role, permission), value in self.overrides.items()
            if role in names and (permission in names[role].permissions) != value
        }
        pending = {role for role, _ in self.overrides}
        self.base = {name: info for name, info in self.base.items() if name in pending}
        self.endResetModel()
        self.pendingChanged.emit()

    def role(self, name: str) -> RoleInfo | None:
        return next((r for r in self.roles if r.name == name), None)

    def role_at(self, column: int) -> RoleInfo | None:
        return self.roles[column] if 0 <= column < len(self.roles) else None

    def granted(self, role: str, permission: str) -> bool:
        if (role, permission) in self.overrides:
            return self.overrides[(role, permission)]
        info = self.role(role)
        return info is not None and permission in info.permissions

    def wanted(self, role: str) -> set[str]:
        return {p for p in self.permissions if self.granted(role, p)}

    def pending_roles(self) -> list[str]:
        pending = {role for role, _ in self.overrides}
        return [r.name for r in self.roles if r.name in pending]

    def is_pending(self, role: str) -> bool:
        return any(name == role for name, _ in self.overrides)

    def expected_version(self, role: str) -> int:
        info = self.base.get(role) or self.role(role)
        return info.version if info is not None else 0

    def stale_roles(self) -> list[str]:
        """Roles with unsaved ticks that another admin changed since they were first ticked."""
        return [
            name
            for name, base in self.base.items()
            if (fresh := self.role(name)) is not None and fresh.version != base.version
        ]

    def toggle(self, role: str, permission: str, value: bool) -> None:
        info = self.role(role)
        if info is None:
            return
        if (permission in info.permissions) == value:
            self.overrides.pop((role, permission), None)
        else:
            self.overrides[(role, permission)] = value
            self.base.setdefault(role, info)
        if not self.is_pending(role):
            self.base.pop(role, None)
        row, column = self.permissions.index(permission), self.roles.index(info)
        self.dataChanged.emit(self.index(row, column), self.index(row, column))
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, column, column)
        self.pendingChanged.emit()

    def forget(self, role: str) -> None:
        """Drop the admin's unsaved ticks for a role (after saving it, or to undo them)."""
        self.overrides = {k: v for k, v in self.overrides.items() if k[0] != role}
        self.base.pop(role, None)
        info = self.role(role)
        if info is not None:
            column = self.roles.index(info)
            self.dataChanged.emit(
                self.index(0, column), self.index(len(self.permissions) - 1, column)
            )
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, column, column)
        self.pendingChanged.emit()

    def saved(self, info: RoleInfo) -> None:
        if (old := self.role(info.name)) is not None:
            self.roles[self.roles.index(old)] = info
        self.forget(info.name)

    def rebase(self, fresh: RoleInfo) -> None:
        """After a conflict: the admin's ticks now apply on top of this version."""
        if self.is_pending(fresh.name):
            self.base[fresh.name] = fresh

    # --- the table ---------------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.permissions)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.roles)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role == Qt.ItemDataRole.DisplayRole and section < len(self.permissions):
                return permission_label(self.permissions[section])
            return None
        info = self.role_at(section)
        if info is None:
            return None
        pending = self.is_pending(info.name)
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{info.name} *" if pending else info.name
        if role == Qt.ItemDataRole.ToolTipRole:
            text = tr("Rank {rank}; held by {count} staff.").format(
                rank=info.rank, count=info.staff_count
            )
            if info.description:
                text += "\n" + info.description
            if pending:
                text += "\n" + tr("Unsaved changes.")
            return text
        if role == Qt.ItemDataRole.FontRole and pending:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        info = self.role_at(index.column())
        if info is None:
            return None
        permission = self.permissions[index.row()]
        value = self.granted(info.name, permission)
        pending = (info.name, permission) in self.overrides
        if role == Qt.ItemDataRole.CheckStateRole:
            return Qt.CheckState.Checked if value else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.BackgroundRole and pending:
            return PENDING_BACKGROUND
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            text = tr("{role}: {permission}: {state}").format(
                role=info.name,
                permission=permission_label(permission),
                state=tr("allowed") if value else tr("not allowed"),
            )
            return text + (" " + tr("(not saved yet)") if pending else "")
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.CheckStateRole:
            return False
        info = self.role_at(index.column())
        if info is None:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked
        self.toggle(info.name, self.permissions[index.row()], checked)
        return True


class RolesTab(QWidget):
    loadingChanged = Signal(bool)
    loaded = Signal()

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("adminRolesTab")
        self.loading = False
        self._reload_again = False
        self._after_load: list[Any] = []
        self.dialog: QDialog | None = None
        self.confirm: QMessageBox | None = None

        self.filter = QLineEdit()
        self.filter.setObjectName("permissionFilter")
        self.filter.setAccessibleName(self.tr("Find a permission"))
        self.filter.setPlaceholderText(self.tr("part of a permission's name (Ctrl+F)"))
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        filter_label = QLabel(self.tr("&Find permission:"))
        filter_label.setBuddy(self.filter)

        self.model = PermissionGridModel(self)
        self.grid = QTableView()
        self.grid.setObjectName("permissionGrid")
        self.grid.setAccessibleName(self.tr("Permissions of each role"))
        self.grid.setModel(self.model)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.grid.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.grid.setTabKeyNavigation(False)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.grid.horizontalHeader().setMinimumSectionSize(110)
        self.grid.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.model.pendingChanged.connect(self._update_state)
        self.model.modelReset.connect(self._apply_filter)
        self.grid.selectionModel().currentColumnChanged.connect(lambda *_: self._update_state())
        hint = QLabel(
            self.tr(
                "Arrow keys move between cells, Space ticks or clears one. Changed cells are "
                "marked and the role's name gets a *; nothing is saved until you save that role."
            )
        )
        hint.setWordWrap(True)
        hint.setProperty("role", "hint")

        self.unsaved = QLabel()
        self.unsaved.setObjectName("rolesUnsaved")
        self.unsaved.setProperty("role", "warning")
        self.unsaved.setWordWrap(True)
        self.unsaved.hide()
        self.message = MessageLine("rolesMessage")

        self.save_button = button(self.tr("&Save"), "roleSaveButton", self.tr("Save"))
        self.revert_button = button(self.tr("Re&vert"), "roleRevertButton", self.tr("Revert"))
        self.new_button = button(self.tr("&New role…"), "roleNewButton", self.tr("New role"))
        self.delete_button = button(self.tr("&Delete…"), "roleDeleteButton", self.tr("Delete"))
        self.save_button.clicked.connect(self.save_current)
        self.revert_button.clicked.connect(self.revert_current)
        self.new_button.clicked.connect(self.new_role)
        self.delete_button.clicked.connect(self.delete_current)
        save_shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save_shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        save_shortcut.activated.connect(self.save_current)

        top = QHBoxLayout()
        top.addWidget(filter_label)
        top.addWidget(self.filter, 1)
        actions = QHBoxLayout()
        for widget in (self.save_button, self.revert_button, self.new_button, self.delete_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(hint)
        layout.addWidget(self.grid, 1)
        layout.addWidget(self.unsaved)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        self._update_state()

    # --- loading -----------------------------------------------------------------------------

    def reload(self) -> None:
        if self.loading:
            self._reload_again = True
            return
        self.loading = True
        self.loadingChanged.emit(True)
        self.ops.query(
            lambda d: d.admin.roles(),
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Loading roles…"),
        )

    def _loaded(self, roles: list[RoleInfo]) -> None:
        current = self.grid.currentIndex()
        column_role = self.current_role()
        self.model.set_roles(roles)
        if column_role is not None and (info := self.model.role(column_role.name)) is not None:
            row = current.row() if current.isValid() else 0
            self.grid.setCurrentIndex(self.model.index(row, self.model.roles.index(info)))
        elif self.model.roles and self.model.permissions:
            self.grid.setCurrentIndex(self.model.index(0, 0))
        if not self._reload_again:  # else a newer read is coming: explain with that one
            callbacks, self._after_load = self._after_load, []
            for callback in callbacks:
                callback()
        self._finish()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.message.error(error_text(exc))
        self._after_load = []
        self._finish()

    def _finish(self) -> None:
        self.loading = False
        self.loadingChanged.emit(False)
        self._update_state()
        if self._reload_again:
            self._reload_again = False
            self.reload()

    def _apply_filter(self) -> None:
        wanted = self.filter.text().strip().casefold()
        for row, permission in enumerate(self.model.permissions):
            shown = not wanted or wanted in permission_label(permission).casefold()
            self.grid.setRowHidden(row, not shown)

    # --- state -------------------------------------------------------------------------------

    def current_role(self) -> RoleInfo | None:
        index = self.grid.currentIndex()
        return self.model.role_at(index.column()) if index.isValid() else None

    def _update_state(self) -> None:
        role = self.current_role()
        name = role.name if role is not None else ""
        pending = role is not None and self.model.is_pending(name)
        retitle(
            self.save_button,
            self.tr("&Save {role}").format(role=name) if role else self.tr("&Save"),
        )
        retitle(
            self.revert_button,
            self.tr("Re&vert {role}").format(role=name) if role else self.tr("Re&vert"),
        )
        retitle(
            self.delete_button,
            self.tr("&Delete {role}…").format(role=name) if role else self.tr("&Delete…"),
        )
        self.save_button.setEnabled(pending)
        self.revert_button.setEnabled(pending)
        self.delete_button.setEnabled(role is not None)
        roles = self.model.pending_roles()
        if roles:
            text = self.tr("Unsaved changes: {roles}.").format(roles=", ".join(roles))
            stale = self.model.stale_roles()
            if stale:
                text += " " + self.tr(
                    "Another admin changed {roles} meanwhile: saving will show their change first."
                ).format(roles=", ".join(stale))
            self.unsaved.setText(text)
            self.unsaved.setAccessibleName(text)
        self.unsaved.setVisible(bool(roles))

    # --- actions -----------------------------------------------------------------------------

    def save_current(self) -> None:
        role = self.current_role()
        if role is None or not self.model.is_pending(role.name):
            return
        name = role.name
        wanted = sorted(self.model.wanted(name))
        version = self.model.expected_version(name)
        self.save_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.set_permissions(name, wanted, expected_version=version),
            on_success=self._saved,
            on_error=lambda exc: self._save_refused(name, exc),
            owner=self,
            label=self.tr("Saving the role…"),
        )

    def _saved(self, info: RoleInfo) -> None:
        self.model.saved(info)
        self.message.info(self.tr("The permissions of {role} are saved.").format(role=info.name))

    def _save_refused(self, name: str, exc: BaseException) -> None:
        self._update_state()
        if not isinstance(exc, ConflictError):
            self.message.error(error_text(exc))
            return
        message = str(exc)
        if exc.changed_by:
            message += " " + self.tr("Last changed by {who}{when}.").format(
                who=exc.changed_by,
                when=self.tr(" on {time}").format(time=local_time(exc.changed_at))
                if exc.changed_at
                else "",
            )
        base = self.model.base.get(name)
        self.message.error(message)

        def explain() -> None:
            fresh = self.model.role(name)
            if fresh is None:
                self.message.error(message + " " + self.tr("The role no longer exists."))
                return
            text = message
            if base is not None:
                added = sorted(fresh.permissions - base.permissions)
                removed = sorted(base.permissions - fresh.permissions)
                if added:
                    text += " " + self.tr("They allowed: {list}.").format(
                        list=", ".join(permission_label(p) for p in added)
                    )
                if removed:
                    text += " " + self.tr("They took away: {list}.").format(
                        list=", ".join(permission_label(p) for p in removed)
                    )
            self.model.rebase(fresh)
            if self.model.is_pending(name):
                text += " " + self.tr(
                    "Your changes are still marked; save again to apply them on top of theirs."
                )
            self.message.error(text)
            self._update_state()

        self._after_load.append(explain)
        self.reload()

    def revert_current(self) -> None:
        role = self.current_role()
        if role is not None:
            self.model.forget(role.name)
            self.message.info(self.tr("Your changes to {role} were undone.").format(role=role.name))

    def new_role(self) -> None:
        top = max((r.rank for r in self.model.roles), default=0)
        dialog = NewRoleDialog(self.ops, self.model.roles, top + 1, parent=self.window())
        dialog.created.connect(
            lambda info: self.message.info(
                self.tr("The role {role} was created; tick its permissions and save.").format(
                    role=info.name
                )
            )
        )
        self.dialog = dialog
        dialog.open()
        dialog.activateWindow()

    def delete_current(self) -> None:
        role = self.current_role()
        if role is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Delete a role"),
            self.tr("Delete the role {role}? This cannot be undone.").format(role=role.name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.window(),
        )
        box.setObjectName("roleDeleteConfirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        name = role.name
        box.finished.connect(
            lambda result: (
                self._delete_confirmed(name) if result == QMessageBox.StandardButton.Yes else None
            )
        )
        self.confirm = box
        box.open()

    def _delete_confirmed(self, name: str) -> None:
        self.ops.write(
            lambda d: d.admin.delete_role(name),
            on_success=lambda _: self._deleted(name),
            on_error=lambda exc: self.message.error(error_text(exc)),
            owner=self,
            label=self.tr("Deleting the role…"),
        )

    def _deleted(self, name: str) -> None:
        self.model.forget(name)
        self.message.info(self.tr("The role {role} was deleted.").format(role=name))


class NewRoleDialog(QDialog):
    created = Signal(object)  # RoleInfo

    def __init__(
        self,
        ops: Operations,
        roles: list[RoleInfo],
        rank: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.busy = False
        self.setObjectName("newRoleDialog")
        self.setWindowTitle(self.tr("New role"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(440)
        self.name = QLineEdit()
        self.name.setObjectName("newRoleName")
        self.name.setAccessibleName(self.tr("Name of the role"))
        self.name_error = FieldError("newRoleNameError")
        self.rank = QSpinBox()
        self.rank.setObjectName("newRoleRank")
        self.rank.setAccessibleName(self.tr("Rank"))
        self.rank.setRange(0, 1000)
        self.rank.setValue(rank)
        self.description = QLineEdit()
        self.description.setObjectName("newRoleDescription")
        self.description.setAccessibleName(self.tr("Description"))
        self.copy_from = QComboBox()
        self.copy_from.setObjectName("newRoleCopyFrom")
        self.copy_from.setAccessibleName(self.tr("Start with the permissions of"))
        self.copy_from.addItem(self.tr("(no permissions)"), "")
        self._permissions = {r.name: r.permissions for r in roles}
        for role in roles:
            self.copy_from.addItem(role.name, role.name)
        self.error = FieldError("newRoleError")
        form = QFormLayout()
        labelled(form, self.tr("&Name:"), self.name, self.name_error)
        labelled(form, self.tr("&Rank:"), self.rank)
        hint = QLabel(self.tr("Higher ranks stand above lower ones in the chain of command."))
        hint.setProperty("role", "hint")
        form.addRow("", hint)
        labelled(form, self.tr("&Description:"), self.description)
        labelled(form, self.tr("Start &with the permissions of:"), self.copy_from)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setObjectName("newRoleCancel")
        cancel.setAccessibleName(self.tr("Cancel"))
        self.create_button = buttons.addButton(
            self.tr("&Create"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.create_button.setObjectName("newRoleCreateButton")
        self.create_button.setAccessibleName(plain(self.tr("&Create")))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.create_button.setDefault(True)  # once in the dialog, or Cancel becomes the default
        self.name.setFocus()

    def submit(self) -> None:
        if self.busy:
            return
        self.name_error.clear_message()
        self.error.clear_message()
        name, rank, description = self.name.text(), self.rank.value(), self.description.text()
        permissions = sorted(self._permissions.get(str(self.copy_from.currentData()), ()))
        self.busy = True
        self.create_button.setEnabled(False)
        self.ops.write(
            lambda d: d.admin.create_role(
                name, rank=rank, description=description, permissions=permissions
            ),
            on_success=self._created,
            on_error=self._failed,
            owner=self,
            label=self.tr("Creating the role…"),
        )

    def _created(self, info: RoleInfo) -> None:
        self.busy = False
        self.created.emit(info)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        self.create_button.setEnabled(True)
        if isinstance(exc, AdminInputError) and exc.field == "name":
            self.name_error.show_message(str(exc))
            self.name.setFocus()
        else:
            self.error.show_message(error_text(exc))
