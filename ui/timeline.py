"""The case timeline beside the form: what happened, when (local time) and by whom.

Guided-script runs appear among the other entries in plain words: which script, when, how it
ended, every step shown in order with the answers given, the items ticked, the moves back and the
safety alerts, and whether the safety incident was reported, so a supervisor sees exactly what
happened. Step texts come from the script library (the officer's language, else the script's);
a step the library no longer has is named by its id.
"""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from desk.domain.script_run import RunRecord
from desk.domain.scripts import Library, Outcome, Script, Step, StepKind
from desk.services.dto import CaseView, ScriptRunView, TimelineEntry
from ui.labels import label, local_time

SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1
RUN_ROLE = Qt.ItemDataRole.UserRole + 2  # the run's UUID (text), on a guided-script entry
STEP_WORDS = 90  # characters of a step's text shown on its line


def _short(text: str, limit: int = STEP_WORDS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _clock(value: dt.datetime) -> str:
    return value.astimezone().strftime("%H:%M:%S")


class TimelineWidget(QListWidget):
    """Newest first, so the latest contact is what the officer sees without scrolling.

    Each entry is two lines (when · who · what, then the words), wrapped to the pane's width:
    a narrow side pane cannot show a wide table without cutting the words off.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setAccessibleName(self.tr("Case timeline"))
        self.setWordWrap(True)
        self.setAlternatingRowColors(True)
        self.setUniformItemSizes(False)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setSpacing(2)
        self.library: Library | None = None
        self._versions: dict[str, int] = {}  # of the run being told: script -> version
        self.language = QLocale().name()
        self._shown: tuple[list[TimelineEntry], tuple[ScriptRunView, ...]] = ([], ())

    def clear(self) -> None:
        self._shown = ([], ())
        super().clear()

    def set_library(self, library: Library | None) -> None:
        """The scripts whose steps the runs are told in (shown again with their words)."""
        self.library = library
        self.show_entries(*self._shown)

    def show_case(self, view: CaseView) -> None:
        self.show_entries(view.timeline, view.script_runs)

    def show_entries(
        self, entries: list[TimelineEntry], runs: tuple[ScriptRunView, ...] = ()
    ) -> None:
        self._shown = (list(entries), tuple(runs))
        super().clear()
        lines: list[tuple[dt.datetime, int, QListWidgetItem]] = []
        for entry in entries:
            what = label(entry.kind)
            if entry.channel is not None:
                what = self.tr("{what} ({channel})").format(what=what, channel=label(entry.channel))
            summary = " ".join(entry.summary.split())
            heading = f"{local_time(entry.at)} · {entry.actor_name} · {what}"
            item = QListWidgetItem(f"{heading}\n{summary}")
            item.setData(SUMMARY_ROLE, summary)
            item.setToolTip(entry.summary)
            lines.append((entry.at, entry.id, item))
        for run in runs:
            lines.append((run.started_at, 0, self._run_item(run)))
        for _at, _id, item in sorted(lines, key=lambda line: line[:2], reverse=True):
            self.addItem(item)

    # --- a guided-script run, in plain words -------------------------------------------------

    def _outcome(self, outcome: Outcome) -> str:
        return {
            Outcome.CALMED_AND_RESOLVED: self.tr("calmed and resolved"),
            Outcome.ESCALATED: self.tr("escalated"),
            Outcome.CUSTOMER_LEFT: self.tr("the customer left"),
            Outcome.SAFETY_INCIDENT: self.tr("safety incident"),
        }[outcome]

    def _script(self, script_id: str) -> Script | None:
        """The script as the run being told followed it (its version), else as it is now."""
        if self.library is None:
            return None
        version = self._versions.get(script_id)
        if version is not None:
            followed = self.library.at_version(script_id, version)
            if followed is not None:
                return followed
        return self.library.scripts.get(script_id)

    def _title(self, script_id: str) -> str:
        script = self._script(script_id)
        if script is not None:
            return script.title.in_language(self.language)
        return script_id.replace("_", " ").capitalize()

    def _step(self, script_id: str, step_id: str) -> Step | None:
        script = self._script(script_id)
        if script is None:
            return None
        try:
            return script.step(step_id)
        except KeyError:
            return None

    def _step_words(self, script_id: str, step_id: str) -> str:
        step = self._step(script_id, step_id)
        if step is None:
            return self.tr("step “{id}”").format(id=step_id.replace("_", " "))
        return _short(step.text.in_language(self.language))

    def _answer_words(self, script_id: str, step_id: str, answer_id: str) -> str:
        step = self._step(script_id, step_id)
        if step is not None and step.kind is StepKind.ASK:
            try:
                return step.answer(answer_id).text.in_language(self.language)
            except KeyError:
                pass
        return answer_id.replace("_", " ")

    def _run_item(self, run: ScriptRunView) -> QListWidgetItem:
        self._versions = dict(run.record.scripts) if run.record is not None else {}
        self._versions.setdefault(run.script_id, run.script_version)
        title = self._title(run.script_id)
        heading = self.tr("{when} · {who} · Guided script").format(
            when=local_time(run.started_at), who=run.officer_name
        )
        if run.outcome is not None:
            ending = self.tr("Outcome: {outcome}.").format(outcome=self._outcome(run.outcome))
        else:
            ending = self.tr("Not finished.")
        until = _clock(run.ended_at) if run.ended_at is not None else ""
        lines = [
            self.tr("“{title}” (version {version}), {start}{until}. {ending}").format(
                title=title,
                version=run.script_version,
                start=_clock(run.started_at),
                until=self.tr(" to {end}").format(end=until) if until else "",
                ending=ending,
            )
        ]
        if run.record is None:
            lines.append(self.tr("The steps of this run cannot be read."))
        else:
            lines += self._path(run.script_id, run.record)
        if run.safety_incident:
            if run.incident_reported_at is not None:
                lines.append(
                    self.tr("Safety incident reported {when}: {report}").format(
                        when=local_time(run.incident_reported_at), report=run.incident_report
                    )
                )
            else:
                lines.append(self.tr("⚠ Safety incident: not reported yet."))
        summary = "\n".join(lines)
        item = QListWidgetItem(f"{heading}\n{summary}")
        item.setData(SUMMARY_ROLE, summary)
        item.setData(RUN_ROLE, str(run.uuid))
        item.setToolTip(summary)
        if run.safety_incident and run.incident_reported_at is None:
            item.setForeground(QBrush(QColor("#6d0f12")))
        return item

    def _path(self, first_script: str, record: RunRecord) -> list[str]:
        """Every step shown, in order, with what was done on it: the exact history."""
        lines: list[str] = []
        number = 0
        script = first_script
        for event in record.events:
            if event.kind == "shown":
                number += 1
                words = self._step_words(event.script_id, event.step_id)
                if event.script_id != script:
                    words = self.tr("[{title}] {words}").format(
                        title=self._title(event.script_id), words=words
                    )
                    script = event.script_id
                lines.append(f"{number}. {words}")
            elif event.kind == "answered":
                answer = self._answer_words(event.script_id, event.step_id, event.detail)
                lines.append(self.tr("    → answered: {answer}").format(answer=answer))
            elif event.kind == "ticked":
                lines.append(self.tr("    ✓ ticked"))
            elif event.kind == "unticked":
                lines.append(self.tr("    ✗ tick removed"))
            elif event.kind == "back":
                lines.append(self.tr("    ↩ went back"))
            elif event.kind == "action":
                lines.append(
                    self.tr("    opened the {action}").format(action=event.detail.replace("_", " "))
                )
            elif event.kind == "safety_alert":
                lines.append(
                    self.tr("    ⚠ SAFETY ALERT raised at {time}").format(time=_clock(event.at))
                )
            elif event.kind == "ended":
                outcome = (
                    Outcome(event.detail) if event.detail in {o.value for o in Outcome} else None
                )
                lines.append(
                    self.tr("    ended early at {time}: {outcome}").format(
                        time=_clock(event.at),
                        outcome=self._outcome(outcome) if outcome else event.detail,
                    )
                )
        return lines

    def run_summaries(self) -> dict[str, str]:
        """The words of each guided-script entry, by run UUID (for tests and screen readers)."""
        found: dict[str, str] = {}
        for i in range(self.count()):
            item = self.item(i)
            if item is not None and item.data(RUN_ROLE):
                found[str(item.data(RUN_ROLE))] = str(item.data(SUMMARY_ROLE))
        return found

    def summaries(self) -> list[str]:
        """The words of each entry, top to bottom (for tests and screen readers)."""
        items = (self.item(i) for i in range(self.count()))
        return [str(item.data(SUMMARY_ROLE)) for item in items if item is not None]
