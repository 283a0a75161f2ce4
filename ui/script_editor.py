"""The guided-script editor: a draft's TOML text, its problems as the admin types, and a preview.

The text is checked on the GUI thread a moment after the admin stops typing (the domain's parse and
``check_in_library`` against the published library are pure and quick); each problem names the
step and field it concerns, and activating one puts the cursor on that step's ``id = "…"`` line.
The preview is the officer's own script panel over a library holding the draft and the published
scripts, with no case: the admin walks through the draft with the keyboard and nothing is recorded.

Saving, publishing and loading go through ``ui.operations``. The service checks the text again and
has the last word; a draft saved by someone else meanwhile is refused, and the text stays here.
Closing with unsaved text asks whether to save it: nothing typed is lost silently.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase, QKeyEvent, QKeySequence, QShortcut, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desk.domain.scripts import (
    Library,
    Mood,
    Outcome,
    Problem,
    Script,
    ScriptError,
    check_in_library,
    parse_script_text,
)
from desk.services.errors import ConflictError
from ui.admin_common import MessageLine, button, error_text, plain
from ui.labels import local_time
from ui.script_panel import ScriptPanel
from ui.widgets import set_role

if TYPE_CHECKING:
    from desk.services.script_library import ScriptDraft
    from ui.operations import Operations

DRAFT_NAME = "the draft"
VALIDATE_AFTER_MS = 300
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1


def _t(text: str) -> str:
    return QCoreApplication.translate("ScriptLibrary", text)


# --- words shared by the script tabs --------------------------------------------------------------


_MOOD_WORDS: dict[str, str] = {
    Mood.CALM: "Calm",
    Mood.ANXIOUS: "Anxious",
    Mood.FRUSTRATED: "Frustrated",
    Mood.ANGRY: "Angry",
    Mood.DISTRESSED: "Distressed",
    Mood.AGGRESSIVE: "Aggressive",
}
_OUTCOME_WORDS: dict[str, str] = {
    Outcome.CALMED_AND_RESOLVED: "Calmed and resolved",
    Outcome.ESCALATED: "Escalated",
    Outcome.CUSTOMER_LEFT: "Customer left",
    Outcome.SAFETY_INCIDENT: "Safety incident",
}


def mood_label(mood: str) -> str:
    return _t(_MOOD_WORDS[mood]) if mood in _MOOD_WORDS else mood


def moods_text(moods: Iterable[str]) -> str:
    return ", ".join(mood_label(m) for m in moods)


def outcome_label(outcome: str) -> str:
    return _t(_OUTCOME_WORDS[outcome]) if outcome in _OUTCOME_WORDS else outcome


def problem_place(problem: Problem) -> str:
    """Where a problem is, in words: "step 'listen', field 'next'", or "the script"."""
    parts = []
    if problem.step is not None:
        parts.append(_t("step '{step}'").format(step=problem.step))
    if problem.field is not None:
        parts.append(_t("field '{field}'").format(field=problem.field))
    return ", ".join(parts) if parts else _t("the script")


def problem_text(problem: Problem) -> str:
    return f"{problem_place(problem)}: {problem.message}"


# --- finding a problem in the text -------------------------------------------------------------

_STEPS_HEADER = re.compile(r"^\s*\[\[\s*steps\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[")
_AT_LINE = re.compile(r"at line (\d+)")


def problem_line(source: str, problem: Problem) -> int | None:
    """The line (counted from 0) a problem is about: its step's ``id = "…"`` line (or the step's
    ``[[steps]]`` header when the step has no id), a top-level field's line, or the line a TOML
    error names. None when it cannot be found."""
    lines = source.splitlines()
    said = _AT_LINE.search(problem.message)
    if said is not None:
        return min(max(int(said.group(1)) - 1, 0), max(len(lines) - 1, 0))
    headers = [i for i, line in enumerate(lines) if _STEPS_HEADER.match(line)]
    if problem.step is not None:
        if problem.step.startswith("#") and problem.step[1:].isdigit():
            position = int(problem.step[1:]) - 1
            return headers[position] if 0 <= position < len(headers) else None
        wanted = re.compile(r"""^\s*id\s*=\s*["']""" + re.escape(problem.step) + r"""["']""")
        first = headers[0] if headers else len(lines)
        for number in range(first, len(lines)):
            if wanted.match(lines[number]):
                return number
        return None
    if problem.field:
        name = re.split(r"[.\[]", problem.field, maxsplit=1)[0]
        field_line = re.compile(r"^\s*" + re.escape(name) + r"\s*[.=]")
        for number, line in enumerate(lines):
            if _TABLE_HEADER.match(line):
                break
            if field_line.match(line):
                return number
    return None


# --- the editor ----------------------------------------------------------------------------------


class ScriptEditor(QDialog):
    """Edit the draft of ``script_id``, or a new script (``script_id`` None).

    ``taken`` are the ids the library already has (a new script needs another). Emits ``saved``
    with the stored draft, ``published`` with the script id and its new version."""

    saved = Signal(object)  # ScriptDraft
    published = Signal(str, int)
    loadedText = Signal()
    checked = Signal()  # the text was checked (``problems`` is up to date)

    def __init__(
        self,
        ops: Operations,
        script_id: str | None,
        *,
        taken: Iterable[str] = (),
        officer_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ops = ops
        self.script_id = script_id
        self.taken = frozenset(taken)
        self.revision = 0
        self.stored = False
        self.based_on: int | None = None
        self.saved_text = ""
        self.loaded = False
        self.busy = False
        self.library: Library = Library({})
        self.script: Script | None = None  # the text as a script, when it has no problems
        self.problems: tuple[Problem, ...] = ()
        self.confirm: QMessageBox | None = None
        self._previewed: Script | None = None
        self._closing = False
        self.setObjectName("scriptEditor")
        self.setAccessibleName(self.tr("Script editor"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setWindowTitle(
            self.tr("Edit the script {id}[*]").format(id=script_id)
            if script_id
            else self.tr("New script[*]")
        )
        self.resize(1280, 820)

        self.status = QLabel(self.tr("Loading the script…"))
        self.status.setObjectName("scriptEditorStatus")
        self.status.setWordWrap(True)
        self.status.setProperty("role", "hint")

        self.source = QPlainTextEdit()
        self.source.setObjectName("scriptSource")
        self.source.setAccessibleName(self.tr("Script text (TOML)"))
        self.source.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.source.setTabChangesFocus(True)  # Tab leaves the text, as everywhere else
        self.source.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.source.setReadOnly(True)
        self.source.setPlaceholderText(self.tr("Loading…"))
        source_label = QLabel(self.tr("&Text of the script:"))
        source_label.setBuddy(self.source)
        self.position = QLabel()
        self.position.setObjectName("scriptEditorPosition")
        self.position.setProperty("role", "hint")

        self.problem_list = QListWidget()
        self.problem_list.setObjectName("scriptProblems")
        self.problem_list.setAccessibleName(self.tr("Problems in the text"))
        self.problem_list.setWordWrap(True)
        self.problem_list.setAlternatingRowColors(True)
        self.problem_list.itemActivated.connect(self._problem_activated)
        self.problem_caption = QLabel(self.tr("Probl&ems:"))
        self.problem_caption.setBuddy(self.problem_list)
        self.problem_summary = QLabel()
        self.problem_summary.setObjectName("scriptProblemSummary")
        self.problem_summary.setWordWrap(True)

        self.preview = ScriptPanel(ops, library=Library({}), officer_name=officer_name)
        self.preview.setAccessibleName(self.tr("Preview of the script"))
        self.preview_note = QLabel(
            self.tr(
                "Preview: go through the script as an officer would (answers: Alt+1, Alt+2 …). "
                "Nothing done here is recorded or sent."
            )
        )
        self.preview_note.setObjectName("scriptPreviewNote")
        self.preview_note.setWordWrap(True)
        self.preview_note.setProperty("role", "hint")
        self.language = QComboBox()
        self.language.setObjectName("scriptPreviewLanguage")
        self.language.setAccessibleName(self.tr("Language of the preview"))
        self.language.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.language.setMinimumContentsLength(12)
        self.language.currentIndexChanged.connect(self._language_chosen)
        language_label = QLabel(self.tr("&Language:"))
        language_label.setBuddy(self.language)
        self.restart_button = button(
            self.tr("&Restart preview"), "scriptRestartPreview", self.tr("Restart the preview")
        )
        self.restart_button.clicked.connect(lambda: self.refresh_preview(restart=True))

        self.message = MessageLine("scriptEditorMessage")
        self.save_button = button(self.tr("Sa&ve draft"), "scriptSaveButton", self.tr("Save draft"))
        self.save_button.setToolTip(self.tr("Keep the text as the draft (Ctrl+S)"))
        self.publish_button = button(
            self.tr("&Publish"), "scriptPublishNowButton", self.tr("Save and publish")
        )
        self.publish_button.setToolTip(
            self.tr("Save the text and make it the version every officer gets")
        )
        self.close_button = button(self.tr("Close"), "scriptEditorClose", self.tr("Close"))
        self.save_button.clicked.connect(lambda: self.save())
        self.publish_button.clicked.connect(self.publish)
        self.close_button.clicked.connect(self.reject)

        # --- layout
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(source_label)
        left_layout.addWidget(self.source, 1)
        left_layout.addWidget(self.position)

        problems = QWidget()
        problems_layout = QVBoxLayout(problems)
        problems_layout.setContentsMargins(0, 0, 0, 0)
        problems_layout.addWidget(self.problem_caption)
        problems_layout.addWidget(self.problem_summary)
        problems_layout.addWidget(self.problem_list, 1)

        preview = QWidget()
        preview.setObjectName("scriptPreviewBox")
        preview_layout = QVBoxLayout(preview)
        preview_layout.setContentsMargins(0, 0, 0, 0)
        preview_title = QLabel(self.tr("Preview"))
        preview_title.setObjectName("scriptPreviewTitle")
        font = preview_title.font()
        font.setBold(True)
        preview_title.setFont(font)
        preview_layout.addWidget(preview_title)
        preview_layout.addWidget(self.preview_note)
        preview_tools = QHBoxLayout()
        preview_tools.addWidget(language_label)
        preview_tools.addWidget(self.language)
        preview_tools.addStretch(1)
        preview_tools.addWidget(self.restart_button)
        preview_layout.addLayout(preview_tools)
        self.preview.setAutoFillBackground(True)
        preview_layout.addWidget(self.preview, 1)

        right = QSplitter(Qt.Orientation.Vertical)
        right.setObjectName("scriptEditorRight")
        right.setChildrenCollapsible(False)
        right.addWidget(problems)
        right.addWidget(preview)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 3)
        right.setSizes([170, 610])

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("scriptEditorSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([720, 520])

        actions = QHBoxLayout()
        actions.addWidget(self.save_button)
        actions.addWidget(self.publish_button)
        actions.addStretch(1)
        actions.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.message)
        layout.addLayout(actions)

        for widget in (
            self.save_button,
            self.publish_button,
            self.close_button,
            self.restart_button,
        ):
            widget.setAutoDefault(True)  # Enter on a focused button presses that button
        # Once the buttons are in the dialog: Enter elsewhere saves, and the dialog does not
        # guess a default among the preview's buttons.
        self.save_button.setDefault(True)

        QWidget.setTabOrder(self.source, self.problem_list)
        QWidget.setTabOrder(self.problem_list, self.language)
        QWidget.setTabOrder(self.language, self.restart_button)

        save_keys = QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self)
        save_keys.setContext(Qt.ShortcutContext.WindowShortcut)
        save_keys.activated.connect(lambda: self.save())

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(VALIDATE_AFTER_MS)
        self._check_timer.timeout.connect(self.validate)
        self.source.textChanged.connect(self._text_changed)
        self.source.cursorPositionChanged.connect(self._show_position)
        self._update_buttons()
        self._load()

    # --- loading -----------------------------------------------------------------------------

    def _load(self) -> None:
        script_id = self.script_id

        def read(d: Any) -> tuple[ScriptDraft | None, str, Library]:
            if script_id is None:
                return None, d.scripts.new_script_source(), d.scripts.published()
            return d.scripts.draft(script_id), "", d.scripts.published()

        self.set_busy(True)
        self.ops.query(
            read,
            on_success=self._loaded,
            on_error=self._load_failed,
            owner=self,
            label=self.tr("Opening the script…"),
        )

    def _loaded(self, data: tuple[ScriptDraft | None, str, Library]) -> None:
        draft, new_source, self.library = data
        if draft is not None:
            text = draft.source
            self.revision, self.stored, self.based_on = (
                draft.revision,
                draft.stored,
                draft.based_on_version,
            )
        else:
            text = new_source
        self.saved_text = text
        self.source.setReadOnly(False)
        self.source.setPlainText(text)
        self.source.document().setModified(False)
        self.source.moveCursor(QTextCursor.MoveOperation.Start)
        self.loaded = True
        self.set_busy(False)
        self._show_status()
        self.validate()
        self.source.setFocus(Qt.FocusReason.OtherFocusReason)
        self.loadedText.emit()

    def _load_failed(self, exc: BaseException) -> None:
        self.set_busy(False)
        self.status.setText(self.tr("The script could not be opened."))
        self.message.error(error_text(exc))
        self._update_buttons()

    def _show_status(self) -> None:
        if self.script_id is None:
            text = self.tr(
                "A new script. Change its id, title and steps; Save draft keeps it (only admins "
                "see drafts), Publish gives it to every officer."
            )
        elif self.stored:
            text = self.tr(
                "The draft for version {next} (version {current} is in use). Publish makes it "
                "the version every officer gets."
            ).format(
                next=(self.based_on or 0) + 1,
                current=self.based_on if self.based_on is not None else "-",
            )
            if self.based_on is None:
                text = self.tr(
                    "The draft of a script not published yet. Publish gives it to every officer."
                )
        else:
            text = self.tr(
                "Version {current} is in use. Saving makes a draft for version {next}; officers "
                "keep version {current} until it is published."
            ).format(current=self.based_on, next=(self.based_on or 0) + 1)
        self.status.setText(text)
        self.status.setAccessibleName(text)

    # --- state -------------------------------------------------------------------------------

    @property
    def dirty(self) -> bool:
        """The text differs from what is stored (or from the starting text of a new one)."""
        return self.loaded and self.source.toPlainText() != self.saved_text

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        ready = self.loaded and not self.busy
        self.save_button.setEnabled(ready)
        self.publish_button.setEnabled(ready and (self.dirty or self.stored))
        self.restart_button.setEnabled(self._previewed is not None)
        self.setWindowModified(self.dirty)

    def _text_changed(self) -> None:
        if not self.loaded:
            return
        self._check_timer.start()
        self._update_buttons()

    def _show_position(self) -> None:
        cursor = self.source.textCursor()
        self.position.setText(
            self.tr("Line {line}, column {column}").format(
                line=cursor.blockNumber() + 1, column=cursor.positionInBlock() + 1
            )
        )

    # --- checking ----------------------------------------------------------------------------

    def validate(self) -> None:
        """Check the text now (the timer calls this a moment after the last key)."""
        self._check_timer.stop()
        text = self.source.toPlainText()
        script: Script | None = None
        try:
            script = parse_script_text(text, DRAFT_NAME)
        except ScriptError as exc:
            problems = exc.problems
        except RecursionError:
            problems = (Problem(DRAFT_NAME, self.tr("is nested too deeply to read")),)
        else:
            problems = self._identity_problems(script) or check_in_library(script, self.library)
        self.problems = tuple(problems)
        self.script = script if not problems else None
        self._show_problems()
        if self.script is not None:
            self.refresh_preview()
        self._update_buttons()
        self.checked.emit()

    def _identity_problems(self, script: Script) -> tuple[Problem, ...]:
        if self.script_id is not None and script.id != self.script_id:
            return (
                Problem(
                    DRAFT_NAME,
                    self.tr(
                        "must stay '{id}': this is that script's draft (to make another script, "
                        "use New script)"
                    ).format(id=self.script_id),
                    field="id",
                ),
            )
        if self.script_id is None and script.id in self.taken:
            return (
                Problem(
                    DRAFT_NAME,
                    self.tr("'{id}' is already used by another script; choose another id").format(
                        id=script.id
                    ),
                    field="id",
                ),
            )
        return ()

    def _show_problems(self) -> None:
        self.problem_list.clear()
        for problem in self.problems:
            text = problem_text(problem)
            item = QListWidgetItem(text)
            item.setData(PROBLEM_ROLE, problem)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, text)
            item.setToolTip(text)
            self.problem_list.addItem(item)
        if self.problems:
            self.problem_list.setCurrentRow(0)  # Enter on the list goes to the first one
        count = len(self.problems)
        retitle_label(
            self.problem_caption,
            self.tr("Probl&ems ({n}):").format(n=count) if count else self.tr("Probl&ems:"),
        )
        if count:
            summary = self.tr(
                "The text cannot be saved as it is. Enter on a problem goes to its step."
            )
            set_role(self.problem_summary, "error")
        else:
            summary = self.tr("No problems: the text can be saved and published.")
            set_role(self.problem_summary, "hint")
        self.problem_summary.setText(summary)
        self.problem_summary.setAccessibleName(summary)
        self.problem_list.setAccessibleName(
            self.tr("Problems in the text: {n}").format(n=count) if count else summary
        )

    def _problem_activated(self, item: QListWidgetItem) -> None:
        problem = item.data(PROBLEM_ROLE)
        if isinstance(problem, Problem):
            self.go_to(problem)

    def go_to(self, problem: Problem) -> bool:
        """Put the cursor on the line the problem is about; False when it cannot be found."""
        line = problem_line(self.source.toPlainText(), problem)
        if line is None:
            self.message.info(self.tr("The place of this problem could not be found in the text."))
            return False
        block = self.source.document().findBlockByNumber(line)
        cursor = self.source.textCursor()
        cursor.setPosition(block.position())
        self.source.setTextCursor(cursor)
        self.source.centerCursor()
        self.source.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    # --- the preview -------------------------------------------------------------------------

    def preview_library(self, script: Script) -> Library:
        """The draft (first) and the published scripts, as the panel would have them."""
        scripts = {script.id: script}
        scripts.update({s.id: s for s in self.library if s.id != script.id})
        return Library(scripts)

    def refresh_preview(self, *, restart: bool = False) -> None:
        """Show the text without problems in the preview (a changed script starts again)."""
        script = self.script if self.script is not None else self._previewed
        if script is None or (script == self._previewed and not restart):
            return
        self._previewed = script
        # No run while the library changes: the panel keeps a running script in its list even
        # when the new library lacks it (the id was just edited), and cannot title it there.
        self.preview.choose_script(None)
        self.preview.set_library(self.preview_library(script))
        self._fill_languages(script)
        self.preview.choose_script(script.id)
        self._update_buttons()

    def _fill_languages(self, script: Script) -> None:
        wanted = self.language.currentData() or script.default_language
        languages = sorted(script.languages)
        self.language.blockSignals(True)
        try:
            self.language.clear()
            for code in languages:
                name = self.tr("{code} (default)").format(code=code)
                self.language.addItem(name if code == script.default_language else code, code)
            index = self.language.findData(wanted)
            self.language.setCurrentIndex(
                index if index >= 0 else self.language.findData(script.default_language)
            )
        finally:
            self.language.blockSignals(False)
        self.preview.set_language(str(self.language.currentData() or script.default_language))

    def _language_chosen(self, _index: int) -> None:
        code = self.language.currentData()
        if code:
            self.preview.set_language(str(code))

    # --- saving and publishing ---------------------------------------------------------------

    def save(self, then: Callable[[], None] | None = None) -> None:
        """Store the text as the draft (Ctrl+S); ``then`` runs once it is stored."""
        if self.busy or not self.loaded:
            return
        text = self.source.toPlainText()
        script_id, revision = self.script_id, self.revision
        self.message.clear_message()
        self.set_busy(True)
        self.ops.write(
            lambda d: d.scripts.save_draft(
                text, script_id=script_id, expected_revision=revision, source_name=DRAFT_NAME
            ),
            on_success=lambda draft: self._saved(draft, text, then),
            on_error=self._failed,
            owner=self,
            label=self.tr("Saving the draft…"),
        )

    def _saved(self, draft: ScriptDraft, sent: str, then: Callable[[], None] | None) -> None:
        self.script_id = draft.script_id
        self.revision, self.stored, self.based_on = draft.revision, True, draft.based_on_version
        self.taken = self.taken | {draft.script_id}
        self.setWindowTitle(self.tr("Edit the script {id}[*]").format(id=draft.script_id))
        if self.source.toPlainText() == sent and draft.source != sent:
            self._replace_text(draft.source)  # the library numbers the version
        self.saved_text = draft.source if self.source.toPlainText() == draft.source else sent
        self.set_busy(False)
        self._show_status()
        self.message.info(self.tr("The draft is saved ({time}).").format(time=local_time(_now())))
        self.saved.emit(draft)
        if then is not None:
            then()

    def _replace_text(self, text: str) -> None:
        """Change the text as one undoable edit, keeping the cursor where it was."""
        position = self.source.textCursor().position()
        cursor = QTextCursor(self.source.document())
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(text)
        cursor.endEditBlock()
        keep = self.source.textCursor()
        keep.setPosition(min(position, len(text)))
        self.source.setTextCursor(keep)

    def _failed(self, exc: BaseException) -> None:
        self.set_busy(False)
        message = error_text(exc)
        if isinstance(exc, ConflictError) and exc.changed_at is not None:
            message += " " + self.tr("(Saved by {who} on {time}.)").format(
                who=exc.changed_by or self.tr("someone"), time=local_time(exc.changed_at)
            )
        self.message.error(message)

    def publish(self) -> None:
        """Save the text if it changed, then publish the draft."""
        if self.busy or not self.loaded:
            return
        if self.dirty or not self.stored:
            self.save(then=self._publish_stored)
        else:
            self._publish_stored()

    def _publish_stored(self) -> None:
        script_id = self.script_id
        if script_id is None:
            return
        self.set_busy(True)
        self.ops.write(
            lambda d: d.scripts.publish([script_id]),
            on_success=lambda versions: self._published(script_id, versions),
            on_error=self._failed,
            owner=self,
            label=self.tr("Publishing the script…"),
        )

    def _published(self, script_id: str, versions: list[int]) -> None:
        self.set_busy(False)
        self.stored = False
        self.saved_text = self.source.toPlainText()
        self.published.emit(script_id, versions[0] if versions else 0)
        self._close_now()

    # --- closing -----------------------------------------------------------------------------

    def reject(self) -> None:
        """Close (Esc, the Close button, the window's ×): unsaved text is never dropped
        without asking."""
        if self._closing or not self.dirty:
            self._close_now()
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Unsaved changes"),
            self.tr("The text has changes that are not saved. Save them as the draft?"),
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setObjectName("scriptUnsavedConfirm")
        keep = box.addButton(self.tr("&Keep editing"), QMessageBox.ButtonRole.RejectRole)
        keep.setObjectName("scriptKeepEditing")
        save = box.addButton(self.tr("&Save draft"), QMessageBox.ButtonRole.AcceptRole)
        save.setObjectName("scriptSaveAndClose")
        drop = box.addButton(
            self.tr("Close &without saving"), QMessageBox.ButtonRole.DestructiveRole
        )
        drop.setObjectName("scriptCloseWithoutSaving")
        for widget in (keep, save, drop):
            widget.setAccessibleName(plain(widget.text()))
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)

        def answered(clicked: Any) -> None:
            if clicked is save:
                self.save(then=self._close_now)
            elif clicked is drop:
                self._close_now()
            else:
                self.source.setFocus()

        box.buttonClicked.connect(answered)
        self.confirm = box
        box.open()

    def _close_now(self) -> None:
        self._closing = True
        self._check_timer.stop()
        super().reject()
        self._closing = False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter saves the draft (the default button), except where it means something else:
        # on a problem it goes there, and in the preview it belongs to the officer's panel.
        # Esc closes, asking first about unsaved text.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            focus = self.focusWidget()
            if focus is not None and (
                focus is self.problem_list
                or self.problem_list.isAncestorOf(focus)
                or self.preview.isAncestorOf(focus)
            ):
                event.accept()
                return
        super().keyPressEvent(event)


def retitle_label(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setAccessibleName(plain(text))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
