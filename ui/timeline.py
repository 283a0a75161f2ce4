"""The case timeline beside the form: what happened, when (local time) and by whom."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from desk.services.dto import TimelineEntry
from ui.labels import label, local_time

SUMMARY_ROLE = Qt.ItemDataRole.UserRole + 1


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

    def show_entries(self, entries: list[TimelineEntry]) -> None:
        self.clear()
        for entry in sorted(entries, key=lambda e: (e.at, e.id), reverse=True):
            what = label(entry.kind)
            if entry.channel is not None:
                what = self.tr("{what} ({channel})").format(what=what, channel=label(entry.channel))
            summary = " ".join(entry.summary.split())
            heading = f"{local_time(entry.at)} · {entry.actor_name} · {what}"
            item = QListWidgetItem(f"{heading}\n{summary}")
            item.setData(SUMMARY_ROLE, summary)
            item.setToolTip(entry.summary)
            self.addItem(item)

    def summaries(self) -> list[str]:
        """The words of each entry, top to bottom (for tests and screen readers)."""
        items = (self.item(i) for i in range(self.count()))
        return [str(item.data(SUMMARY_ROLE)) for item in items if item is not None]
