"""The guided script panel: a calm step-by-step guide docked beside the case form.

The officer sets the customer's mood; the panel proposes the fitting script (the officer may take
another or none) and shows one step at a time: what to do, what to say (with "Insert into notes"),
the answers of a question as buttons (Alt+1, Alt+2 …), a check item to tick, or an action to open.
Back (Alt+Left) undoes the last move; Next is Alt+Right. The safety alert is one key away from every
step (Ctrl+Shift+A, a window action the main window owns) and is confirmed in the panel.

The scripts are files: they are loaded through the operations worker, never on the GUI thread.

What the officer did is kept as plain run records, each with a UUID made when the run starts,
for the case on show (``set_case``). Once the case is saved, a run is stored with it when it ends,
when a safety alert is raised, when the officer leaves it for another script and when the form
shows another case; the form's own save stores the rest (``unsaved_runs``/``runs_stored``). Runs
of a case not saved yet are kept until its first save, even while the officer looks at another
case. Saving is idempotent by the run's UUID: storing a run again never duplicates it.

The customer's mood is the case's: the panel's mood list mirrors the one on the case form
(``set_mood``) and reports the officer's choice here with ``moodChosen``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desk.domain.script_run import RunRecord, ScriptRun
from desk.domain.scripts import (
    ActionKind,
    Library,
    Mood,
    Outcome,
    Script,
    Step,
    StepKind,
    load_builtin_library,
    load_library,
)
from desk.services.dto import ScriptRunToSave, ScriptRunView
from ui.operations import Operations, bug_message, is_user_error

log = logging.getLogger(__name__)

_STYLE = """
QPushButton#safetyAlertButton { color: white; background: #a4161a; border: 1px solid #6d0f12;
    border-radius: 3px; padding: 4px 10px; font-weight: 600; }
QPushButton#safetyAlertButton:focus { border: 2px solid #1f3a5f; }
QLabel#safetyAlertConfirmation { color: #6d0f12; background: #fde8e8; border: 1px solid #a4161a;
    border-radius: 3px; padding: 6px; font-weight: 600; }
QLabel#scriptTitle { font-size: 12pt; font-weight: 600; color: #1f3a5f; }
QLabel#scriptStepText { font-size: 11pt; }
QLabel[role="phrase"] { background: #eef3fa; border-left: 3px solid #1f3a5f; padding: 6px;
    font-style: italic; }
QLabel#scriptOutcome { color: #1d5c2e; font-weight: 600; }
"""


def _takes_tab(widget: QWidget) -> bool:
    return bool(widget.focusPolicy().value & Qt.FocusPolicy.TabFocus.value)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ScriptPanel(QWidget):
    """One run at a time; every control has an object name and an accessible name."""

    insertPhrase = Signal(str)  # a phrase, placeholders filled, for the case notes
    actionRequested = Signal(str, str)  # ActionKind value, the step's text
    safetyAlertRaised = Signal(object)  # datetime (UTC)
    runFinished = Signal(object)  # RunRecord
    libraryLoaded = Signal(object)  # Library
    moodChosen = Signal(object)  # Mood | None: the officer changed the mood here
    runsChanged = Signal()  # the runs kept for the case on show changed (a move, an alert)
    runsStored = Signal(int, object)  # case id, list[ScriptRunView]: every stored run of it

    def __init__(
        self,
        ops: Operations,
        *,
        officer_name: str = "",
        language: str | None = None,
        directory: Path | None = None,
        library: Library | None = None,
        clock: Callable[[], dt.datetime] = _now,
        parent: QWidget | None = None,
    ) -> None:
        """The library comes from ``library`` when given (a preview), else from the files of
        ``directory``, else from the shared database (the published scripts), else, with no
        database open, from the scripts shipped with Desk."""
        super().__init__(parent)
        self.ops = ops
        self.setObjectName("scriptPanel")
        self.setAccessibleName(self.tr("Guided script"))
        self.setStyleSheet(_STYLE)
        self.officer_name = officer_name
        self.language = language or QLocale().name()
        self.clock = clock
        self.library: Library | None = None
        self.run: ScriptRun | None = None
        self.run_uuid: uuid.UUID | None = None
        # The case the runs are for: its UUID (the form's client UUID before the first save)
        # and its id once saved.
        self.case_key: uuid.UUID | None = None
        self.case_id: int | None = None
        # Every run with something done in it this session, by run UUID: (case, record).
        self._kept: dict[uuid.UUID, tuple[uuid.UUID | None, RunRecord]] = {}
        self._stored: dict[uuid.UUID, RunRecord] = {}  # what the database holds of each
        self._case_ids: dict[uuid.UUID, int] = {}
        self.standalone_alerts: list[dt.datetime] = []  # only while no script can be loaded
        self._alert_time = ""
        self.context: Callable[[], Mapping[str, str]] = dict
        self._step_controls: list[QWidget] = []
        self._filling_choice = False
        self._directory = directory
        self._build()
        self._show_run()
        if library is not None:
            self.set_library(library)
        else:
            self.reload_library()

    def reload_library(self) -> None:
        """Read the library again (an admin published or retired a script); a run under way
        goes on with the version it started with."""
        directory = self._directory
        if directory is not None:
            self.ops.call(
                lambda: load_library(directory),
                on_success=self.set_library,
                on_error=self._load_failed,
                owner=self,
                label=self.tr("Loading the guided scripts…"),
            )
        elif self.ops.desk is not None:
            self.ops.query(
                lambda d: d.scripts.published(),
                on_success=self.set_library,
                on_error=self._load_failed,
                owner=self,
                key="script-library",
                label=self.tr("Loading the guided scripts…"),
            )
        else:
            self.ops.call(
                load_builtin_library,
                on_success=self.set_library,
                on_error=self._load_failed,
                owner=self,
                label=self.tr("Loading the guided scripts…"),
            )

    # --- building ------------------------------------------------------------------------

    def _build(self) -> None:
        self.mood = QComboBox()
        self.mood.setObjectName("scriptMood")
        self.mood.setAccessibleName(self.tr("Customer's mood"))
        self.mood.addItem(self.tr("Not set"), "")
        for mood, text in self._mood_labels().items():
            self.mood.addItem(text, mood.value)
        self.script_choice = QComboBox()
        self.script_choice.setObjectName("scriptChoice")
        self.script_choice.setAccessibleName(self.tr("Guided script"))
        self.script_choice.addItem(self.tr("No script"), "")
        self.script_choice.setEnabled(False)
        self.library_message = QLabel(self.tr("Loading the scripts…"))
        self.library_message.setObjectName("scriptLibraryMessage")
        self.library_message.setWordWrap(True)
        self.library_message.setProperty("role", "hint")
        choose = QFormLayout()
        choose.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        mood_label = QLabel(self.tr("Mood:"))
        mood_label.setBuddy(self.mood)
        script_label = QLabel(self.tr("&Script:"))
        script_label.setBuddy(self.script_choice)
        choose.addRow(mood_label, self.mood)
        choose.addRow(script_label, self.script_choice)

        self.title = QLabel()
        self.title.setObjectName("scriptTitle")
        self.title.setWordWrap(True)
        self.progress = QLabel()
        self.progress.setObjectName("scriptProgress")
        self.progress.setProperty("role", "hint")
        self.step_text = QLabel()
        self.step_text.setObjectName("scriptStepText")
        self.step_text.setWordWrap(True)
        self.step_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.step_box = QWidget()
        self.step_box.setObjectName("scriptStepControls")
        self.step_layout = QVBoxLayout(self.step_box)
        self.step_layout.setContentsMargins(0, 4, 0, 4)
        self.step_note = QLabel()
        self.step_note.setObjectName("scriptStepNote")
        self.step_note.setWordWrap(True)
        self.step_note.setProperty("role", "hint")
        self.step_note.hide()

        content = QWidget()
        content.setObjectName("scriptContent")
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 4, 0)
        content_layout.addWidget(self.title)
        content_layout.addWidget(self.progress)
        content_layout.addWidget(self.step_text)
        content_layout.addWidget(self.step_box)
        content_layout.addWidget(self.step_note)
        content_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("scriptScroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scroll.setWidget(content)

        self.back_button = QPushButton(self.tr("← &Back"))
        self.back_button.setObjectName("scriptBackButton")
        self.back_button.setAccessibleName(self.tr("Back to the previous step"))
        self.back_button.setToolTip(self.tr("Back to the previous step (Alt+Left)"))
        self.next_button = QPushButton(self.tr("Next →"))
        self.next_button.setObjectName("scriptNextButton")
        self.next_button.setAccessibleName(self.tr("Next step"))
        self.next_button.setToolTip(self.tr("Next step (Alt+Right)"))
        self.left_button = QPushButton(self.tr("Customer left"))
        self.left_button.setObjectName("scriptCustomerLeftButton")
        self.left_button.setAccessibleName(self.tr("End the script: the customer left"))
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button)
        nav.addStretch(1)
        nav.addWidget(self.left_button)

        self.alert_button = QPushButton(self.tr("Safety alert (Ctrl+Shift+A)"))
        self.alert_button.setObjectName("safetyAlertButton")
        self.alert_button.setAccessibleName(self.tr("Raise a safety alert"))
        self.alert_confirmation = QLabel()
        self.alert_confirmation.setObjectName("safetyAlertConfirmation")
        self.alert_confirmation.setWordWrap(True)
        self.alert_confirmation.setAccessibleName(self.tr("Safety alert confirmation"))
        self.alert_confirmation.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addLayout(choose)
        layout.addWidget(self.library_message)
        layout.addWidget(self.scroll, 1)
        layout.addLayout(nav)
        layout.addWidget(self.alert_confirmation)
        layout.addWidget(self.alert_button)

        self.mood.currentIndexChanged.connect(self._mood_changed)
        self.mood.activated.connect(lambda _i: self.moodChosen.emit(self.current_mood()))
        self.script_choice.currentIndexChanged.connect(self._script_chosen)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.left_button.clicked.connect(self.customer_left)
        self.alert_button.clicked.connect(self.raise_safety_alert)
        for keys, slot in (
            (QKeySequence.StandardKey.Back, self.back),
            (QKeySequence.StandardKey.Forward, self.next),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    def _mood_labels(self) -> dict[Mood, str]:
        return {
            Mood.CALM: self.tr("Calm"),
            Mood.ANXIOUS: self.tr("Anxious"),
            Mood.FRUSTRATED: self.tr("Frustrated"),
            Mood.ANGRY: self.tr("Angry"),
            Mood.DISTRESSED: self.tr("Distressed"),
            Mood.AGGRESSIVE: self.tr("Aggressive"),
        }

    def _outcome_label(self, outcome: Outcome) -> str:
        return {
            Outcome.CALMED_AND_RESOLVED: self.tr("Calmed and resolved"),
            Outcome.ESCALATED: self.tr("Escalated"),
            Outcome.CUSTOMER_LEFT: self.tr("The customer left"),
            Outcome.SAFETY_INCIDENT: self.tr("Safety incident"),
        }[outcome]

    def _action_label(self, action: ActionKind) -> str:
        return {
            ActionKind.ESCALATION: self.tr("Prepare the escalation"),
            ActionKind.REFERRAL: self.tr("Prepare the referral"),
            ActionKind.APPROVAL_REQUEST: self.tr("Prepare the approval request"),
            ActionKind.SAFETY_ALERT: self.tr("Raise the safety alert now"),
        }[action]

    # --- the library ---------------------------------------------------------------------

    def set_library(self, library: Library) -> None:
        first = self.library is None
        self.library = library
        self._filling_choice = True
        try:
            self.script_choice.clear()
            self.script_choice.addItem(self.tr("No script"), "")
            for script in library:
                self.script_choice.addItem(script.title.in_language(self.language), script.id)
            if self.run is not None:  # shown as the script it is running, even if retired since
                if self.script_choice.findData(self.run.script_id) < 0:
                    self.script_choice.addItem(
                        self.script_title(self.run.script_id), self.run.script_id
                    )
                self.script_choice.setCurrentIndex(self.script_choice.findData(self.run.script_id))
        finally:
            self._filling_choice = False
        self.script_choice.setEnabled(True)
        if library.refusals:
            for refusal in library.refusals:
                log.warning("Guided script refused: %s", refusal)
            self.library_message.setText(
                self.tr("{n} script file(s) could not be loaded; the others can be used.").format(
                    n=len(library.refusals)
                )
            )
            self.library_message.setToolTip("\n\n".join(str(r) for r in library.refusals))
            self.library_message.show()
        else:
            self.library_message.hide()
        if first or self.run is None:  # never cut short a run on show
            self._mood_changed()
        self.libraryLoaded.emit(library)

    def _load_failed(self, exc: BaseException) -> None:
        log.error("The guided scripts could not be loaded: %s", exc)
        error = str(exc) if is_user_error(exc) else bug_message()
        self.library_message.setText(
            self.tr("The guided scripts could not be loaded: {error}").format(error=error)
        )
        self.library_message.show()

    # --- choosing ------------------------------------------------------------------------

    def set_mood(self, mood: Mood | None) -> None:
        """Show the case's mood (a change proposes the fitting script)."""
        self.mood.setCurrentIndex(max(0, self.mood.findData(mood.value if mood else "")))

    def current_mood(self) -> Mood | None:
        value = self.mood.currentData()
        return Mood(value) if value else None

    def _mood_changed(self, _index: int = 0) -> None:
        if self.library is None:
            return
        mood = self.mood.currentData() or None
        proposed = self.library.propose(mood)
        if proposed is None and mood is not None:
            self.library_message.setText(self.tr("No script suits this mood; you may pick one."))
            self.library_message.show()
        self.choose_script(proposed.id if proposed else None)

    def _script_chosen(self, index: int) -> None:
        if not self._filling_choice:
            self.choose_script(self.script_choice.itemData(index) or None)

    def choose_script(self, script_id: str | None) -> None:
        """Start a run of the script (None: no script). A run in progress is kept as a record."""
        if (
            self.run is not None
            and script_id == self.run.script_id
            and not self.run.finished
            and self.run.position == 1
        ):
            return
        left = self.run
        self._keep_current_run()
        self._filling_choice = True
        try:
            self.script_choice.setCurrentIndex(max(0, self.script_choice.findData(script_id or "")))
        finally:
            self._filling_choice = False
        if script_id is None or self.library is None or script_id not in self.library:
            self.run = None
            self.run_uuid = None
        else:
            self.run = ScriptRun(
                self.library,
                script_id,
                started_at=self.clock(),
                language=self.language,
                values=self._values(),
            )
            self.run_uuid = uuid.uuid4()
        self._show_run()
        if left is not None and left is not self.run:
            self.store_runs()  # the run left for another script is stored as it stands

    def _keep_current_run(self) -> None:
        """Keep the record of the run on show once something was done in it (a run left
        before its end is still a record of what was done)."""
        run, run_uuid = self.run, self.run_uuid
        if run is None or run_uuid is None:
            return
        if run.finished or run.position > 1 or self._had_events(run):
            record = run.record()
            kept = self._kept.get(run_uuid)
            if kept is None or kept[1] != record:
                self._kept[run_uuid] = (self.case_key, record)
                self.runsChanged.emit()

    @staticmethod
    def _had_events(run: ScriptRun) -> bool:
        return any(e.kind != "shown" for e in run.record().events)

    # --- the runs of the case --------------------------------------------------------------

    @property
    def records(self) -> list[RunRecord]:
        """What was done with the scripts on the case on show, oldest run first."""
        self._keep_current_run()
        return [record for key, record in self._kept.values() if key == self.case_key]

    def case_runs(self, case_key: uuid.UUID | None = None) -> list[ScriptRunToSave]:
        """Every run kept for the case (the one on show by default), stored or not."""
        self._keep_current_run()
        key = self.case_key if case_key is None else case_key
        return [
            ScriptRunToSave(run_uuid, record)
            for run_uuid, (run_key, record) in self._kept.items()
            if run_key == key
        ]

    def unsaved_runs(self, case_key: uuid.UUID | None = None) -> list[ScriptRunToSave]:
        """The runs of the case the database does not hold as they are now."""
        return [r for r in self.case_runs(case_key) if self._stored.get(r.uuid) != r.record]

    def runs_stored(self, runs: Iterable[ScriptRunToSave]) -> None:
        """These states of these runs are in the database now (saved with the case)."""
        for run in runs:
            self._stored[run.uuid] = run.record

    def adopt_runs(self, case_key: uuid.UUID, runs: Iterable[ScriptRunToSave]) -> None:
        """Take back runs kept elsewhere (a restored draft); a run held here is newer."""
        adopted = False
        for run in runs:
            if run.uuid not in self._kept:
                self._kept[run.uuid] = (case_key, run.record)
                adopted = True
        if adopted:
            self.runsChanged.emit()

    def script_title(self, script_id: str) -> str:
        if self.library is not None and script_id in self.library:
            return self.library[script_id].title.in_language(self.language)
        return script_id.replace("_", " ").capitalize()

    def set_case(self, case_key: uuid.UUID, case_id: int | None, mood: Mood | None = None) -> None:
        """The form shows this case. Another case: the runs of the one before are stored (or
        kept until its first save), and the panel starts afresh with the new case's mood."""
        if case_id is not None:
            self._case_ids[case_key] = case_id
        if case_key == self.case_key:
            self.case_id = case_id if case_id is not None else self.case_id
            return
        self._keep_current_run()
        self.store_runs()
        self.case_key = case_key
        self.case_id = case_id if case_id is not None else self._case_ids.get(case_key)
        self.run = None
        self.run_uuid = None
        self.alert_confirmation.hide()
        self.set_mood(mood)
        self._mood_changed()  # the proposal for this case, even when the mood is the same
        self.runsChanged.emit()

    def store_runs(self) -> None:
        """Store what is not stored yet of the runs of a saved case (off the GUI thread)."""
        key, case_id = self.case_key, self.case_id
        if key is None or case_id is None:
            return
        runs = self.unsaved_runs(key)
        if not runs:
            return
        self.ops.write(
            lambda d: d.cases.script_runs.save_all(case_id, runs),
            on_success=lambda views: self._stored_now(case_id, runs, views),
            on_error=self._store_failed,
            owner=self,
            label=self.tr("Recording the guided script on the case…"),
        )

    def _stored_now(
        self, case_id: int, runs: list[ScriptRunToSave], views: list[ScriptRunView]
    ) -> None:
        self.runs_stored(runs)
        self.runsStored.emit(case_id, views)

    def _store_failed(self, exc: BaseException) -> None:
        error = str(exc) if is_user_error(exc) else bug_message()
        self.library_message.setText(
            self.tr(
                "What you did with the script could not be recorded on the case yet: {error} "
                "It is kept, and recorded when you save the case."
            ).format(error=error)
        )
        self.library_message.show()

    def set_language(self, language: str) -> None:
        self.language = language
        if self.run is not None:
            self.run.language = language
        if self.library is not None:
            for i in range(1, self.script_choice.count()):
                script_id = self.script_choice.itemData(i)
                script = self.library.scripts.get(script_id)
                title = (
                    script.title.in_language(language) if script else self.script_title(script_id)
                )
                self.script_choice.setItemText(i, title)
        self._show_run()

    def _values(self) -> dict[str, str]:
        values = {"officer_name": self.officer_name}
        values.update({k: v for k, v in self.context().items() if v})
        return values

    def refresh(self, _view: object = None) -> None:
        """The case or the customer changed: fill the placeholders again."""
        self._show_run()

    # --- moving --------------------------------------------------------------------------

    def next(self) -> None:
        run = self.run
        if run is None or run.finished or run.step.next is None:
            return
        run.next(self.clock())
        self._moved()

    def back(self) -> None:
        run = self.run
        if run is None or not run.can_go_back:
            return
        run.back(self.clock())
        self._show_run()

    def choose(self, answer_id: str) -> None:
        run = self.run
        if run is None or run.finished:
            return
        run.choose(answer_id, self.clock())
        self._moved()

    def _answer_clicked(self, position: int, answer_id: str) -> None:
        # A mnemonic clicks a moment after the key (animateClick): a second key pressed in
        # between must not answer the next step with this step's button.
        run = self.run
        if run is not None and run.position == position and run.step.kind is StepKind.ASK:
            self.choose(answer_id)

    def customer_left(self) -> None:
        run = self.run
        if run is None or run.finished:
            return
        run.end_now(Outcome.CUSTOMER_LEFT, self.clock())
        self._moved()

    def _moved(self) -> None:
        self._show_run()
        run = self.run
        if run is not None and run.finished:
            self.runFinished.emit(run.record())
            self.store_runs()

    def _tick(self, checked: bool) -> None:
        if self.run is not None and not self.run.finished:
            self.run.tick(checked, self.clock())
            self._keep_current_run()

    def _action(self) -> None:
        run = self.run
        if run is None or run.step.action is None:
            return
        action = run.step.action
        if action is ActionKind.SAFETY_ALERT:
            self.raise_safety_alert()
            return
        run.note_action(self.clock())
        self.step_note.setText(
            self.tr("Noted. Now complete it in the case form; then go on with Next.")
        )
        self.step_note.show()
        self.actionRequested.emit(action.value, run.render(run.step.text))

    def raise_safety_alert(self) -> None:
        """One key from every step: recorded on the run, confirmed here. With no script on show,
        the one for aggressive behaviour starts (safety first, then the procedure) and the alert
        is recorded on it."""
        if self.run is None and self.library is not None:
            safety_script = self.library.propose(Mood.AGGRESSIVE)
            if safety_script is not None:
                self.choose_script(safety_script.id)
        when = self.clock()
        if self.run is not None:
            self.run.raise_safety_alert(when)
            self._keep_current_run()
            self.store_runs()
        else:
            self.standalone_alerts.append(when)
        self._alert_time = when.astimezone().strftime("%H:%M")
        self.alert_confirmation.setText(
            self.tr(
                "Safety alert raised at {time} and recorded; telling your supervisors now. "
                "Stay out of reach, and follow your centre's procedure."
            ).format(time=self._alert_time)
        )
        self.alert_confirmation.show()
        self.safetyAlertRaised.emit(when)

    def alert_delivered(self) -> None:
        """The supervisors of the centre have the alert on their screens."""
        self.alert_confirmation.setText(
            self.tr(
                "Safety alert raised at {time}: your supervisors have it on their screens now. "
                "Stay out of reach, and follow your centre's procedure."
            ).format(time=self._alert_time)
        )

    def alert_acknowledged(self, by: str) -> None:
        self.alert_confirmation.setText(
            self.tr(
                "Safety alert raised at {time}: {name} is on the way. Stay out of reach."
            ).format(time=self._alert_time, name=by)
        )

    def alert_not_delivered(self, reason: str) -> None:
        """It is recorded with the run, but nobody was told: the officer must get help in person."""
        self.alert_confirmation.setText(
            self.tr(
                "Safety alert raised at {time} and recorded, but it could not reach your "
                "supervisors ({reason}); Desk keeps trying. Get your supervisor or security in "
                "person now. Stay out of reach."
            ).format(time=self._alert_time, reason=reason)
        )

    # --- showing -------------------------------------------------------------------------

    def _clear_step_controls(self) -> None:
        for widget in self._step_controls:
            widget.hide()
            widget.deleteLater()
        self._step_controls = []
        while self.step_layout.count():
            self.step_layout.takeAt(0)

    def _add(self, widget: QWidget) -> QWidget:
        self._step_controls.append(widget)
        self.step_layout.addWidget(widget)
        widget.show()  # a child added to a visible widget is not shown on its own
        return widget

    def _show_run(self) -> None:
        self._keep_current_run()
        focus = QApplication.focusWidget()
        # Move the keyboard to the new step only from the step (not from the mood or script
        # lists, where arrow keys browse and the focus must stay).
        had_focus = (
            focus is not None
            and self.isAncestorOf(focus)
            and focus not in (self.mood, self.script_choice)
            and not self.mood.isAncestorOf(focus)
            and not self.script_choice.isAncestorOf(focus)
        )
        self._clear_step_controls()
        self.step_note.hide()
        run = self.run
        for button in (self.back_button, self.next_button, self.left_button):
            button.setEnabled(run is not None)
        if run is None:
            self.title.setText(self.tr("No script running"))
            self.progress.setText("")
            self.step_text.setText(
                self.tr("Set the customer's mood to get a suggested script, or pick one.")
                if self.library is not None
                else self.tr("Loading the scripts…")
            )
            self.next_button.hide()
            self.left_button.hide()
            self.back_button.hide()
            self._chain_tab_order()
            if had_focus:
                self.focus_step()
            return
        run.values = self._values()
        script, step = run.script, run.step
        self.back_button.show()
        self.back_button.setEnabled(run.can_go_back)
        self.title.setText(script.title.in_language(self.language))
        if run.finished:
            self.progress.setText(self.tr("Finished after {n} steps").format(n=run.position))
        else:
            self.progress.setText(
                self.tr("Step {n} of about {total}").format(n=run.position, total=run.about_total)
            )
        self.step_text.setText(run.render(step.text))
        self._build_step(run, script, step)
        self.next_button.setVisible(step.next is not None and not run.finished)
        self.left_button.setVisible(not run.finished)
        self._chain_tab_order()
        if had_focus:
            self.focus_step()

    def _build_step(self, run: ScriptRun, script: Script, step: Step) -> None:
        """The controls of one step, in the order the officer meets them."""
        if run.finished:
            outcome = run.outcome
            assert outcome is not None
            label = QLabel(
                self.tr("Outcome: {outcome}").format(outcome=self._outcome_label(outcome))
            )
            label.setObjectName("scriptOutcome")
            self._add(label)
            if step.kind is not StepKind.END:  # ended early
                self.step_text.setText(
                    self.tr(
                        "The script was ended before its last step. "
                        "Note in the case where you got to."
                    )
                )
            again = QPushButton(self.tr("Start this script again"))
            again.setObjectName("scriptRestartButton")
            again.setAccessibleName(self.tr("Start this script again"))
            again.clicked.connect(lambda: self._restart(script.id))
            self._add(again)
            return
        if step.kind is StepKind.SAY:
            for i, phrase in enumerate(step.phrases):
                text = run.render(phrase)
                quote = QLabel(f"“{text}”")
                quote.setObjectName(f"scriptPhrase{i}")
                quote.setProperty("role", "phrase")
                quote.setWordWrap(True)
                quote.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self._add(quote)
                button = QPushButton(
                    self.tr("&Insert into notes") if i == 0 else self.tr("Insert into notes")
                )
                button.setObjectName(f"insertPhraseButton{i}")
                button.setAccessibleName(
                    self.tr("Insert phrase {n} into the notes").format(n=i + 1)
                )
                button.setToolTip(self.tr("Add this phrase to “Your understanding”"))
                button.clicked.connect(lambda _c=False, t=text: self._insert(t))
                self._add(button)
                self.step_layout.setAlignment(button, Qt.AlignmentFlag.AlignLeft)
        elif step.kind is StepKind.ASK:
            for i, answer in enumerate(step.answers):
                text = run.render(answer.text)
                prefix = f"&{i + 1} " if i < 9 else ""
                button = QPushButton(prefix + text.replace("&", "&&"))
                button.setObjectName(f"scriptAnswer_{answer.id}")
                button.setAccessibleName(text)
                button.setStyleSheet("text-align: left; padding: 4px 8px;")
                # A narrow panel cuts a long answer rather than scrolling sideways.
                button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
                button.setToolTip(text + (self.tr(" (Alt+{n})").format(n=i + 1) if i < 9 else ""))
                button.clicked.connect(
                    lambda _c=False, a=answer.id, p=run.position: self._answer_clicked(p, a)
                )
                self._add(button)
        elif step.kind is StepKind.CHECK:
            box = QCheckBox(self.tr("Yes, done"))
            box.setObjectName("scriptCheck")
            box.setAccessibleName(run.render(step.text))
            box.setChecked(run.frame.ticked)
            box.toggled.connect(self._tick)
            self._add(box)
        elif step.kind is StepKind.ACTION:
            assert step.action is not None
            button = QPushButton(self._action_label(step.action))
            button.setObjectName("scriptActionButton")
            button.setAccessibleName(self._action_label(step.action))
            button.clicked.connect(self._action)
            self._add(button)

    def _chain_tab_order(self) -> None:
        chain: list[QWidget] = [self.mood, self.script_choice, *self._step_controls]
        chain += [self.next_button, self.back_button, self.left_button, self.alert_button]
        chain = [w for w in chain if _takes_tab(w)]
        for before, after in itertools.pairwise(chain):
            QWidget.setTabOrder(before, after)

    def _restart(self, script_id: str) -> None:
        self.run = None
        self.choose_script(script_id)
        self.focus_step()

    def _insert(self, text: str) -> None:
        self.insertPhrase.emit(text)
        self.step_note.setText(self.tr("Added to your notes."))
        self.step_note.show()

    def focus_step(self) -> None:
        """Put the keyboard focus on the step's first control (or on the mood)."""
        targets = [w for w in self._step_controls if _takes_tab(w)]
        if targets:
            targets[0].setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif self.next_button.isVisibleTo(self):
            self.next_button.setFocus(Qt.FocusReason.ShortcutFocusReason)
        else:
            self.mood.setFocus(Qt.FocusReason.ShortcutFocusReason)
