"""Guided scripts shipped with Desk (TOML files read by desk.domain.scripts)."""
