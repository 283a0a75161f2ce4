"""Which database Desk opens, and that no password is ever written to the settings file."""

from __future__ import annotations

import json
from pathlib import Path

from desk.config import (
    ENV_DATABASE_URL,
    ServerSettings,
    Settings,
    default_database_url,
    forget_password,
    recall_password,
    remember_password,
    resolve_database_url,
)


def test_command_line_beats_environment_beats_settings_beats_default(tmp_path: Path) -> None:
    settings = Settings(database_url="sqlite:////from/settings.sqlite3")
    env = {ENV_DATABASE_URL: "postgresql://env-host/desk"}
    assert resolve_database_url("sqlite:////cli.sqlite3", env, settings) == (
        "sqlite:////cli.sqlite3",
        "command line",
    )
    assert resolve_database_url(None, env, settings) == (
        "postgresql://env-host/desk",
        "environment",
    )
    assert resolve_database_url(None, {}, settings) == (
        "sqlite:////from/settings.sqlite3",
        "settings",
    )
    assert resolve_database_url(None, {}, Settings()) == (default_database_url(), "default")


def test_default_database_lives_in_the_user_data_directory(tmp_path: Path) -> None:
    assert default_database_url().startswith("sqlite:///")
    assert "Desk" in default_database_url()


def test_settings_file_never_holds_a_password(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    Settings(
        database_url="postgresql://ana:s3cret@db.example.org/desk",
        server=ServerSettings(host="db.example.org", username="ana"),
    ).save(path)
    text = path.read_text()
    assert "s3cret" not in text
    loaded = Settings.load(path)
    assert loaded.server == ServerSettings(host="db.example.org", username="ana")
    assert "ana@db.example.org" in loaded.database_url


def test_shared_workstation_remembers_nobody(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    Settings(shared_workstation=True, remember_password=True, last_username="ana").save(path)
    loaded = Settings.load(path)
    assert loaded.last_username == "" and not loaded.remember_password


def test_a_corrupt_settings_file_falls_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    assert Settings.load(path) == Settings()


def test_passwords_go_to_the_keyring_and_can_be_forgotten() -> None:
    url = "postgresql://db.example.org:5432/desk"
    assert remember_password(url, "ana", "s3cret")
    assert recall_password(url, "ana") == "s3cret"
    assert recall_password(url, "bob") is None
    forget_password(url, "ana")
    assert recall_password(url, "ana") is None


def test_a_settings_file_that_is_not_utf8_falls_back_to_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_bytes(b'{"last_username": "\xff"}')
    assert Settings.load(path) == Settings()


def test_every_setting_survives_a_save_and_load(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings(
        database_url="sqlite:////somewhere/desk.sqlite3",
        server=ServerSettings("db.example.org", 6543, "city", "ana", "require"),
        remember_password=True,
        last_username="ana",
        extra={"window": [1, 2]},
    )
    settings.save(path)
    assert Settings.load(path) == settings
    assert list(json.loads(path.read_text())) == [
        "database_url",
        "server",
        "shared_workstation",
        "remember_password",
        "last_username",
        "extra",
    ]


def test_settings_compare_by_value_and_never_share_their_extras() -> None:
    first, second = Settings(), Settings()
    assert first == second and first is not second
    first.extra["x"] = 1
    assert second.extra == {} and first != second
    assert ServerSettings(host="a") != ServerSettings(host="b")
    assert ServerSettings() != Settings()
    assert repr(ServerSettings(username="ana")) == (
        "ServerSettings(host='localhost', port=5432, database='desk', username='ana', "
        "sslmode='prefer')"
    )
