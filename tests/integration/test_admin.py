"""The admin's work on both databases: staff accounts, roles and permissions, authority limits;
bad input refused with a clear message and nothing half-written; every change audited."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from desk.domain.authority import Permission
from desk.services.admin import AdminInputError, NewStaff
from desk.services.dto import CaseQuery
from desk.services.errors import ConflictError, LoginFailed, PasswordRefused, PermissionRefused

Desk = Any
GOOD_PASSWORD = "correct horse battery"


def unique_username() -> str:
    return "u" + uuid.uuid4().hex[:8]


def test_an_admin_adds_a_staff_member_who_must_change_the_password(
    desk_factory: Any, database_url: str
) -> None:
    admin = desk_factory("admin")
    username = unique_username()
    info = admin.admin.add_staff(
        NewStaff(username, "Nadia New", "Counter Officer", "CEN", supervisor="supervisor"),
        GOOD_PASSWORD,
    )
    assert info.role == "Counter Officer" and info.supervisor == "supervisor"
    assert info.must_change_password and info.active and info.has_login
    if database_url.startswith("sqlite"):  # the trusting test server does not check passwords
        newcomer = desk_factory(username, GOOD_PASSWORD)
        assert newcomer.session.username == username and newcomer.session.must_change_password
        with pytest.raises(PasswordRefused, match="user name"):
            newcomer.change_password(f"{username}-forever-and-ever")
        newcomer.change_password("my very own secret")
        newcomer.logout()
        with pytest.raises(LoginFailed):
            newcomer.login(username, GOOD_PASSWORD)
        assert not newcomer.login(username, "my very own secret").must_change_password


def test_bad_staff_input_is_refused_and_nothing_is_written(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    before = len(admin.admin.staff())
    cases = [
        (NewStaff(unique_username(), "X", "Wizard", "CEN"), GOOD_PASSWORD, "role"),
        (NewStaff(unique_username(), "X", "Counter Officer", "MOON"), GOOD_PASSWORD, "centre"),
        (NewStaff("officer", "X", "Counter Officer", "CEN"), GOOD_PASSWORD, "username"),
        (NewStaff("bad__name", "X", "Counter Officer", "CEN"), GOOD_PASSWORD, "username"),
        (NewStaff(unique_username(), "", "Counter Officer", "CEN"), GOOD_PASSWORD, "full_name"),
        (NewStaff(unique_username(), "X", "Counter Officer", "CEN"), "short", "password"),
    ]
    for new, password, field in cases:
        with pytest.raises(AdminInputError) as refused:
            admin.admin.add_staff(new, password)
        assert refused.value.field == field, (new, str(refused.value))
    username = unique_username()
    with pytest.raises(AdminInputError, match="user name"):
        admin.admin.add_staff(
            NewStaff(username, "Pat", "Counter Officer", "CEN"), f"my {username} pass"
        )
    assert len(admin.admin.staff()) == before


def test_an_officer_cannot_administer(desk: Desk) -> None:
    with pytest.raises(PermissionRefused, match="manage_staff"):
        desk.admin.add_staff(
            NewStaff(unique_username(), "X", "Counter Officer", "CEN"), GOOD_PASSWORD
        )
    with pytest.raises(PermissionRefused, match="manage_limits"):
        desk.admin.set_limit("Counter Officer", "waiver", "1000")


def test_limits_are_validated_and_changes_take_effect_at_once(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    officer = desk_factory("officer")
    matrix = admin.admin.limits()
    assert matrix.limit("Counter Officer", "waiver") == 5_000
    for amount, message in (
        ("-5", "negative"),
        ("12.345", "decimal places"),
        ("lots", "number"),
    ):
        with pytest.raises(AdminInputError, match=message):
            admin.admin.set_limit("Counter Officer", "waiver", amount)
    with pytest.raises(AdminInputError, match="no kind of request"):
        admin.admin.set_limit("Counter Officer", "bribe", "10")
    with pytest.raises(AdminInputError, match="no role"):
        admin.admin.set_limit("Janitor", "waiver", "10")
    try:
        warnings = admin.admin.set_limit("Counter Officer", "waiver", "250.00")
        assert warnings and "above that of Senior Officer" in warnings[0]
        kinds = {k.code: k.limit_minor for k in officer.grants.kinds()}
        assert kinds["waiver"] == 25_000, "the officer's next request sees the new limit"
    finally:
        admin.admin.set_limit("Counter Officer", "waiver", "50")


def test_roles_permissions_and_the_second_admin_is_told(desk_factory: Any) -> None:
    first = desk_factory("admin")
    second = desk_factory("admin")
    name = f"Trainee {uuid.uuid4().hex[:6]}"
    role = first.admin.create_role(name, rank=0, permissions=["create_cases"])
    assert role.permissions == {"create_cases"}
    with pytest.raises(AdminInputError, match="Unknown permission: fly"):
        first.admin.set_permissions(name, ["fly"], expected_version=role.version)
    opened = second.admin.roles()
    changed = first.admin.set_permissions(
        name, ["create_cases", "view_centre_cases"], expected_version=role.version
    )
    assert changed.permissions == {"create_cases", "view_centre_cases"}
    stale = next(r for r in opened if r.name == name)
    with pytest.raises(ConflictError, match="Another admin changed the role"):
        second.admin.set_permissions(name, [], expected_version=stale.version)
    assert next(r for r in first.admin.roles() if r.name == name).permissions == {
        "create_cases",
        "view_centre_cases",
    }
    first.admin.delete_role(name)
    assert name not in {r.name for r in first.admin.roles()}


def test_a_role_in_use_cannot_be_deleted(desk_factory: Any) -> None:
    with pytest.raises(AdminInputError, match="still held by"):
        desk_factory("admin").admin.delete_role("Counter Officer")


def test_an_admin_cannot_remove_their_own_last_admin_permission(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    role = next(r for r in admin.admin.roles() if r.name == "Administrator")
    without = role.permissions - {Permission.MANAGE_ROLES.value}
    with pytest.raises(AdminInputError, match="lose the permission"):
        admin.admin.set_permissions("Administrator", without, expected_version=role.version)
    me = next(s for s in admin.admin.staff() if s.username == "admin")
    with pytest.raises(AdminInputError, match="lose the permission"):
        admin.admin.update_staff("admin", expected_version=me.version, role="Counter Officer")
    with pytest.raises(AdminInputError, match="own account"):
        admin.admin.set_staff_active("admin", False)


def test_a_loop_in_the_chain_of_command_is_refused(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    supervisor = next(s for s in admin.admin.staff() if s.username == "supervisor")
    officer = next(s for s in admin.admin.staff() if s.supervisor == "supervisor")
    with pytest.raises(AdminInputError, match="loop"):
        admin.admin.update_staff(
            "supervisor", expected_version=supervisor.version, supervisor=officer.username
        )


def test_a_disabled_account_cannot_log_in(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    username = unique_username()
    admin.admin.add_staff(NewStaff(username, "Short Stay", "Counter Officer", "CEN"), GOOD_PASSWORD)
    disabled = admin.admin.set_staff_active(username, False)
    assert not disabled.active
    with pytest.raises(LoginFailed):
        desk_factory(username, GOOD_PASSWORD)
    assert admin.admin.set_staff_active(username, True).active


def test_every_configuration_change_is_audited(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    username = unique_username()
    admin.admin.add_staff(NewStaff(username, "Audited", "Counter Officer", "CEN"), GOOD_PASSWORD)
    admin.admin.reset_password(username, "another good password")
    admin.admin.set_limit("Counter Officer", "claim", "100")
    checked, broken = admin.verify_audit_trail()
    assert broken is None and checked >= 3


def test_on_a_password_checking_server_an_admin_creates_a_real_login(
    password_demo_url: str,
) -> None:
    """The admin (a staff login, not the owner) creates the account through the database's
    SECURITY DEFINER function; the new person then authenticates with the server itself."""
    from desk.bootstrap import Desk as RealDesk

    admin = RealDesk.open(password_demo_url)
    newcomer = RealDesk.open(password_demo_url)
    officer = RealDesk.open(password_demo_url)
    try:
        admin.login("admin", "demo")
        username = unique_username()
        admin.admin.add_staff(
            NewStaff(username, "Real Login", "Counter Officer", "NTH"), GOOD_PASSWORD
        )
        with pytest.raises(LoginFailed):
            newcomer.login(username, "wrong password here")
        assert newcomer.login(username, GOOD_PASSWORD).centre_name.startswith("Northgate")
        admin.admin.reset_password(username, "a fresh temporary one")
        newcomer.logout()
        with pytest.raises(LoginFailed):
            newcomer.login(username, GOOD_PASSWORD)
        session = newcomer.login(username, "a fresh temporary one")
        assert session.must_change_password
        with pytest.raises(PasswordRefused, match="at least 12"):
            newcomer.change_password("short")
        assert not newcomer.change_password("my very own secret").must_change_password
        newcomer.cases.list(CaseQuery())  # the open connection pool now uses the new password
        newcomer.logout()
        with pytest.raises(LoginFailed):
            newcomer.login(username, "a fresh temporary one")
        assert not newcomer.login(username, "my very own secret").must_change_password

        # An officer calling the function directly, as a modified client would, is refused.
        officer.login("officer", "demo")
        from sqlalchemy import text
        from sqlalchemy.exc import DBAPIError

        with pytest.raises(DBAPIError, match="manage_staff"), officer.engine.connect() as conn:
            conn.execute(
                text("SELECT desk_set_password(:u, :v)"),
                {"u": "admin", "v": "SCRAM-SHA-256$4096:AAAA$AAAA:AAAA"},
            )
        with pytest.raises(DBAPIError, match="never in plain text"), admin.engine.connect() as conn:
            conn.execute(text("SELECT desk_set_password(:u, 'plain')"), {"u": username})
    finally:
        for desk in (admin, newcomer, officer):
            desk.close()
