"""Which database Desk opens, and that no password is ever written to the settings file."""

from __future__ import annotations

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
