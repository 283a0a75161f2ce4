"""Desk's PySide6 user interface: windows, widgets, item models and dialogs (never SQLAlchemy)."""
