"""The organisation an admin configures, on both databases: service centres, specialist teams, case
categories and kinds of request. Bad input is refused naming the field, nothing half-written; every
change is audited; on PostgreSQL the database itself refuses a staff login without the permission.

The PostgreSQL demo database is shared by the whole test run: what a test adds has a unique name and
is taken out of use again at the end, so other tests see the organisation they expect.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from desk.adapters.pg_roles import login_role_name
from desk.domain.validation import ValidationError
from desk.services.admin import AdminInputError, CentreDetails, NewStaff
from desk.services.audit import AuditFilter
from desk.services.errors import ConflictError, PermissionRefused
from desk.services.grants import Outcome
from tests.conftest import DEMO_PASSWORD, PostgresServer
from tests.integration.test_grants import fresh_case

Desk = Any
GOOD_PASSWORD = "correct horse battery"


def tag() -> str:
    return uuid.uuid4().hex[:6]


def audited(desk: Desk, entity: str, entity_id: int) -> list[str]:
    """The actions the audit trail holds for one record, oldest first."""
    page = desk.admin.audit_entries(AuditFilter(entity=entity, entity_id=str(entity_id)), limit=50)
    return [row.action for row in reversed(page.rows)]


# --- service centres -----------------------------------------------------------------------------


def test_an_admin_adds_changes_and_takes_a_centre_out_of_use(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    other = desk_factory("admin")
    code = f"T{tag().upper()}"
    added = admin.admin.add_centre(
        CentreDetails(
            code.lower(),  # codes are kept in capitals
            "  Test Centre  " + code,
            address="1 Test Street",
            phone="+1 555 0100 9999",
            email="test@example.org",
            opening_hours="Mon-Fri 9-5",
        )
    )
    try:
        assert added.code == code and added.name == f"Test Centre {code}" and added.active
        assert added.active_staff == 0
        assert code in {c.code for c in admin.admin.centres()}, "offered to the staff dialogs"
        assert f"Test Centre {code}" in {c.name for c in admin.reference_data().centres}

        seen = other.admin.service_centres()
        changed = admin.admin.update_centre(
            code,
            CentreDetails(code, f"Test Centre {code} (new)", opening_hours="Mon-Sat 9-5"),
            expected=added.details,
        )
        assert changed.name == f"Test Centre {code} (new)" and changed.address == ""
        assert changed.opening_hours == "Mon-Sat 9-5"
        stale = next(c for c in seen if c.code == code)
        with pytest.raises(ConflictError, match="Someone else changed the centre") as conflict:
            other.admin.update_centre(
                code, CentreDetails(code, "Overwritten"), expected=stale.details
            )
        assert conflict.value.changed_by == admin.session.full_name
        assert next(c for c in admin.admin.service_centres() if c.code == code).name == (
            f"Test Centre {code} (new)"
        ), "nothing overwritten"

        off = admin.admin.set_centre_active(code, False)
        assert not off.active
        assert code not in {c.code for c in admin.admin.centres()}
        assert off.name not in {c.name for c in admin.reference_data().centres}
        assert admin.admin.set_centre_active(code, True).active
        assert audited(admin, "service_centre", added.id) == [
            "centre_added",
            "centre_changed",
            "centre_disabled",
            "centre_enabled",
        ]
    finally:
        admin.admin.set_centre_active(code, False)
    assert admin.verify_audit_trail()[1] is None


def test_a_centre_where_active_staff_work_stays_in_use(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    with pytest.raises(AdminInputError, match="still the centre of") as refused:
        admin.admin.set_centre_active("CEN", False)
    assert refused.value.field == "active"
    assert "move them to another centre" in str(refused.value)
    assert next(c for c in admin.admin.service_centres() if c.code == "CEN").active

    code = f"S{tag().upper()}"
    admin.admin.add_centre(CentreDetails(code, f"Staffed {code}"))
    username = "u" + tag()
    admin.admin.add_staff(NewStaff(username, "Only One", "Counter Officer", code), GOOD_PASSWORD)
    with pytest.raises(AdminInputError, match=f"Staffed {code} is still the centre of 1 active"):
        admin.admin.set_centre_active(code, False)
    admin.admin.set_staff_active(username, False)
    assert not admin.admin.set_centre_active(code, False).active


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        (CentreDetails("", "A name"), "code", "Enter the centre's code"),
        (CentreDetails("x", "A name"), "code", "2 to 20 letters"),
        (CentreDetails("AB CD", "A name"), "code", "2 to 20 letters"),
        (CentreDetails("cen", "A name"), "code", "already has the code 'CEN'"),
        (CentreDetails("ZZ1", "   "), "name", "cannot be empty"),
        (CentreDetails("ZZ1", "central service centre"), "name", "already has the name"),
        (CentreDetails("ZZ1", "N" * 201), "name", "at most 200 characters"),
        (CentreDetails("ZZ1", "A name", address="a" * 501), "address", "at most 500"),
        (CentreDetails("ZZ1", "A name", phone="call me"), "phone", "digits"),
        (CentreDetails("ZZ1", "A name", email="nobody"), "email", "not an e-mail"),
        (CentreDetails("ZZ1", "A name", opening_hours="h" * 201), "opening_hours", "at most"),
    ],
)
def test_bad_centre_input_is_refused_naming_the_field(
    desk_factory: Any, details: CentreDetails, field: str, message: str
) -> None:
    admin = desk_factory("admin")
    before = admin.admin.service_centres()
    with pytest.raises(AdminInputError, match=message) as refused:
        admin.admin.add_centre(details)
    assert refused.value.field == field
    assert admin.admin.service_centres() == before, "nothing written"


def test_changing_a_centre_that_does_not_exist_or_to_a_taken_code_is_refused(
    desk_factory: Any,
) -> None:
    admin = desk_factory("admin")
    central = next(c for c in admin.admin.service_centres() if c.code == "CEN")
    with pytest.raises(AdminInputError, match="no service centre 'MOON'") as refused:
        admin.admin.update_centre("MOON", CentreDetails("MOON", "Moon"), expected=central.details)
    assert refused.value.field == "centre"
    taken = CentreDetails("NTH", central.name, central.address)
    with pytest.raises(AdminInputError, match="already has the code 'NTH'") as refused:
        admin.admin.update_centre("CEN", taken, expected=central.details)
    assert refused.value.field == "code"
    assert next(c for c in admin.admin.service_centres() if c.code == "CEN") == central


# --- specialist teams ----------------------------------------------------------------------------


def test_teams_are_added_renamed_and_taken_out_of_referrals(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    officer = desk_factory("officer")
    name = f"Test team {tag()}"
    team = admin.admin.add_team(name, "team@example.org")
    try:
        assert (team.name, team.email, team.active) == (name, "team@example.org", True)
        assert name in {t.name for t in officer.reference_data().teams}, "a referral target"

        renamed = admin.admin.update_team(team.id, name=name + " renamed", email="", expected=team)
        assert (renamed.name, renamed.email) == (name + " renamed", "")
        with pytest.raises(ConflictError, match="Someone else changed the team"):
            admin.admin.update_team(team.id, name="Stale", email="", expected=team)
        with pytest.raises(AdminInputError, match="already a team called 'Billing'") as refused:
            admin.admin.update_team(team.id, name="billing", email="", expected=renamed)
        assert refused.value.field == "name"

        admin.admin.set_team_active(team.id, False)
        assert renamed.name not in {t.name for t in officer.reference_data().teams}
        case = fresh_case(officer)
        with pytest.raises(ValidationError, match="no longer takes referrals"):
            officer.cases.refer(case.id, team_id=team.id, reason="Needs the specialists")
        assert audited(admin, "specialist_team", team.id) == [
            "team_added",
            "team_changed",
            "team_disabled",
        ]
    finally:
        admin.admin.set_team_active(team.id, False)


@pytest.mark.parametrize(
    ("name", "email", "field", "message"),
    [
        ("", "", "name", "cannot be empty"),
        ("T" * 101, "", "name", "at most 100 characters"),
        ("LEGAL", "", "name", "already a team called 'Legal'"),
        ("A new team", "not-an-address", "email", "not an e-mail"),
    ],
)
def test_bad_team_input_is_refused_naming_the_field(
    desk_factory: Any, name: str, email: str, field: str, message: str
) -> None:
    admin = desk_factory("admin")
    before = admin.admin.teams()
    with pytest.raises(AdminInputError, match=message) as refused:
        admin.admin.add_team(name, email)
    assert refused.value.field == field
    assert admin.admin.teams() == before
    with pytest.raises(AdminInputError, match="no specialist team number") as refused:
        admin.admin.set_team_active(10**9, False)
    assert refused.value.field == "team"


# --- case categories -----------------------------------------------------------------------------


def test_categories_and_subcategories_are_added_renamed_moved_and_taken_out_of_use(
    desk_factory: Any,
) -> None:
    admin = desk_factory("admin")
    name = f"Test category {tag()}"
    main = admin.admin.add_category(name)
    try:
        tree = admin.admin.category_tree()
        assert tree[-1].id == main.id and main.position == len(tree) - 1, "a new one goes last"
        first = admin.admin.add_category("First", parent_id=main.id)
        second = admin.admin.add_category("Second", parent_id=main.id)
        assert (first.position, second.position) == (0, 1)
        assert first.parent_id == main.id

        moved = admin.admin.move_category(second.id, -1)
        assert moved.position == 0
        node = next(c for c in admin.admin.category_tree() if c.id == main.id)
        assert [s.name for s in node.subcategories] == ["Second", "First"]
        reference = admin.reference_data()
        assert [s.name for s in reference.subcategories if s.parent_id == main.id] == [
            "Second",
            "First",
        ], "the case form lists them in the new order"
        with pytest.raises(AdminInputError, match="Second is already first") as refused:
            admin.admin.move_category(second.id, -1)
        assert refused.value.field == "position"
        moved_main = admin.admin.move_category(main.id, -1)
        assert moved_main.position == len(tree) - 2

        renamed = admin.admin.rename_category(first.id, "Later", expected_name="First")
        assert renamed.name == "Later" and renamed.position == 1
        with pytest.raises(ConflictError, match="Someone else renamed First to Later"):
            admin.admin.rename_category(first.id, "Again", expected_name="First")
        with pytest.raises(AdminInputError, match="already a subcategory") as refused:
            admin.admin.rename_category(first.id, "second", expected_name="Later")
        assert refused.value.field == "name"
        with pytest.raises(AdminInputError, match="not under another subcategory") as refused:
            admin.admin.add_category("Too deep", parent_id=first.id)
        assert refused.value.field == "parent"

        admin.admin.set_category_active(main.id, False)
        reference = admin.reference_data()
        assert main.id not in {c.id for c in reference.categories}
        with pytest.raises(AdminInputError, match="enable that first") as refused:
            admin.admin.set_category_active(first.id, True)
        assert refused.value.field == "active"
        with pytest.raises(AdminInputError, match="not in use; enable it first"):
            admin.admin.add_category("Under a closed one", parent_id=main.id)
        again = admin.admin.set_category_active(main.id, True)
        assert again.active and [s.name for s in again.subcategories] == ["Second", "Later"]
        assert audited(admin, "category", main.id) == [
            "category_added",
            "category_moved",
            "category_disabled",
            "category_enabled",
        ]
        assert audited(admin, "category", first.id) == ["category_added", "category_renamed"]
    finally:
        admin.admin.set_category_active(main.id, False)


@pytest.mark.parametrize(
    ("name", "parent", "field", "message"),
    [
        ("", None, "name", "cannot be empty"),
        ("C" * 101, None, "name", "at most 100 characters"),
        ("billing", None, "name", "already a category called 'Billing'"),
        ("Anything", 10**9, "parent", "no category number"),
    ],
)
def test_bad_category_input_is_refused_naming_the_field(
    desk_factory: Any, name: str, parent: int | None, field: str, message: str
) -> None:
    admin = desk_factory("admin")
    before = admin.admin.category_tree()
    with pytest.raises(AdminInputError, match=message) as refused:
        admin.admin.add_category(name, parent_id=parent)
    assert refused.value.field == field
    assert admin.admin.category_tree() == before


# --- kinds of request ----------------------------------------------------------------------------


def test_a_new_kind_of_request_becomes_a_column_of_the_limits(desk_factory: Any) -> None:
    admin = desk_factory("admin")
    officer = desk_factory("officer")
    code = f"fine_{tag()}"
    kind = admin.admin.add_request_kind(code, "  Parking fine refund ", "grant_claims")
    try:
        assert (kind.code, kind.label, kind.grant_permission, kind.active, kind.pending) == (
            code,
            "Parking fine refund",
            "grant_claims",
            True,
            0,
        )
        matrix = admin.admin.limits()
        assert matrix.kinds[-1] == (code, "Parking fine refund")
        assert all(matrix.limit(role, code) == 0 for role in matrix.roles), "0 until set"
        assert admin.admin.set_limit("Senior Officer", code, "100") == []
        assert admin.admin.limits().limit("Senior Officer", code) == 10_000
        assert {k.code: k.limit_minor for k in officer.grants.kinds()}[code] == 0

        case = fresh_case(officer)
        request = officer.grants.request(case.id, code, 5_000, "Ticket issued in error")
        assert request.status == "pending"
        assert next(k for k in admin.admin.request_kinds() if k.code == code).pending == 1
        with pytest.raises(AdminInputError, match="still has 1 request waiting") as refused:
            admin.admin.set_request_kind_active(code, False)
        assert refused.value.field == "active"
        decider = next(
            d
            for d in (desk_factory(u) for u in ("senior", "supervisor", "manager"))
            if any(r.id == request.id for r in d.grants.awaiting_me())
        )
        decider.grants.decide(request.id, Outcome.REJECT, reason="The ticket stands")

        off = admin.admin.set_request_kind_active(code, False)
        assert not off.active and off.pending == 0
        assert code not in {c for c, _ in admin.admin.limits().kinds}
        assert code not in {k.code for k in officer.grants.kinds()}
        back = admin.admin.set_request_kind_active(code, True)
        assert back.active
        assert admin.admin.limits().limit("Senior Officer", code) == 10_000, "limits are kept"
        assert audited(admin, "request_kind", kind.id) == [
            "request_kind_added",
            "request_kind_disabled",
            "request_kind_enabled",
        ]
    finally:
        admin.admin.set_request_kind_active(code, False)


@pytest.mark.parametrize(
    ("code", "label", "permission", "field", "message"),
    [
        ("", "Label", "grant_claims", "code", "Enter a code"),
        ("Fine", "Label", "grant_claims", "code", "lower-case letters"),
        ("f", "Label", "grant_claims", "code", "2 to 30"),
        ("1fine", "Label", "grant_claims", "code", "starts with a letter"),
        ("late fee", "Label", "grant_claims", "code", "lower-case letters"),
        ("f" * 31, "Label", "grant_claims", "code", "2 to 30"),
        ("waiver", "Label", "grant_claims", "code", r"Fee waiver \(waiver\) already has"),
        ("new_kind", "", "grant_claims", "label", "cannot be empty"),
        ("new_kind", "L" * 101, "grant_claims", "label", "at most 100"),
        ("new_kind", "fee WAIVER", "grant_claims", "label", "already has this label"),
        ("new_kind", "Label", "manage_staff", "grant_permission", "grant_waivers or grant_claims"),
        ("new_kind", "Label", "fly", "grant_permission", "Unknown permission 'fly'"),
    ],
)
def test_bad_kinds_of_request_are_refused_naming_the_field(
    desk_factory: Any, code: str, label: str, permission: str, field: str, message: str
) -> None:
    admin = desk_factory("admin")
    before = admin.admin.request_kinds()
    with pytest.raises(AdminInputError, match=message) as refused:
        admin.admin.add_request_kind(code, label, permission)
    assert refused.value.field == field
    assert admin.admin.request_kinds() == before, "nothing written"


def test_an_unknown_kind_cannot_be_taken_out_of_use(desk_factory: Any) -> None:
    with pytest.raises(AdminInputError, match="no kind of request called 'bribe'") as refused:
        desk_factory("admin").admin.set_request_kind_active("bribe", False)
    assert refused.value.field == "kind"


# --- who may -------------------------------------------------------------------------------------


def test_an_officer_cannot_change_the_organisation(desk_factory: Any) -> None:
    officer = desk_factory("officer")
    admin = desk_factory("admin")
    billing = next(t for t in admin.admin.teams() if t.name == "Billing")
    category = admin.admin.category_tree()[0]
    central = next(c for c in admin.admin.service_centres() if c.code == "CEN")
    attempts = [
        lambda: officer.admin.add_centre(CentreDetails("ZZ9", "Nowhere")),
        lambda: officer.admin.update_centre(
            "CEN", CentreDetails("CEN", "Mine"), expected=central.details
        ),
        lambda: officer.admin.set_centre_active("NTH", False),
        lambda: officer.admin.add_team("My team"),
        lambda: officer.admin.update_team(billing.id, name="X", email="", expected=billing),
        lambda: officer.admin.set_team_active(billing.id, False),
        lambda: officer.admin.add_category("Mine"),
        lambda: officer.admin.rename_category(category.id, "X", expected_name=category.name),
        lambda: officer.admin.move_category(category.id, 1),
        lambda: officer.admin.set_category_active(category.id, False),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionRefused, match="manage_organisation"):
            attempt()
    with pytest.raises(PermissionRefused, match="manage_limits"):
        officer.admin.add_request_kind("bribe", "Bribe", "grant_claims")
    with pytest.raises(PermissionRefused, match="manage_limits"):
        officer.admin.set_request_kind_active("waiver", False)
    assert next(c for c in admin.admin.service_centres() if c.code == "CEN") == central
    assert next(t for t in admin.admin.teams() if t.name == "Billing") == billing


# --- PostgreSQL: the database is the authority ---------------------------------------------------


@pytest.fixture
def pg_desk(postgres: PostgresServer, pg_demo_database: str) -> Iterator[Any]:
    """Log a demo person in to the shared PostgreSQL database: ``pg_desk("officer")``."""
    from desk.bootstrap import Desk as RealDesk

    opened: list[Any] = []

    def login(username: str) -> Any:
        desk = RealDesk.open(postgres.url(pg_demo_database))
        desk.login(username, DEMO_PASSWORD)
        opened.append(desk)
        return desk

    yield login
    for desk in opened:
        desk.close()


def test_the_database_refuses_an_officer_whose_client_skips_the_check(
    pg_desk: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A modified client that leaves out the permission check still cannot write."""
    officer = pg_desk("officer")
    monkeypatch.setattr(officer.admin, "_require", lambda _uow, _permission: None)
    name = f"Rogue team {tag()}"
    with pytest.raises(PermissionRefused, match='needs the permission "manage_organisation"'):
        officer.admin.add_team(name)
    with pytest.raises(PermissionRefused, match='needs the permission "manage_limits"'):
        officer.admin.add_request_kind(f"rogue_{tag()}", "Rogue", "grant_claims")
    code = f"R{tag().upper()}"
    with pytest.raises(PermissionRefused, match='needs the permission "manage_organisation"'):
        officer.admin.add_centre(CentreDetails(code, "Rogue centre"))
    with pytest.raises(PermissionRefused, match='needs the permission "manage_organisation"'):
        officer.admin.move_category(officer.admin.category_tree()[0].id, 1)
    admin = pg_desk("admin")
    assert name not in {t.name for t in admin.admin.teams()}, "nothing half-written"
    assert code not in {c.code for c in admin.admin.service_centres()}


def _connect_as(postgres: PostgresServer, database: str, username: str) -> Any:
    url = postgres.admin_url
    return psycopg.connect(
        host=url.host,
        port=url.port or 5432,
        user=login_role_name(database, username),
        dbname=database,
        autocommit=True,
    )


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO service_centres (uuid, code, name, address, phone, email, opening_hours, "
        "active) VALUES (gen_random_uuid(), 'ROGUE', 'Rogue', '', '', '', '', true)",
        "UPDATE service_centres SET active = false WHERE code = 'NTH'",
        "INSERT INTO specialist_teams (name, email, active) VALUES ('Rogue team', '', true)",
        "UPDATE specialist_teams SET name = name || ' (changed)'",
        "INSERT INTO categories (name, parent_id, active, sort_order) VALUES ('Rogue', NULL, "
        "true, 0)",
        "UPDATE categories SET active = false",
        "DELETE FROM categories WHERE parent_id IS NOT NULL",
        "INSERT INTO request_kinds (code, label, grant_permission, active) "
        "VALUES ('rogue', 'Rogue', 'grant_waivers', true)",
        "UPDATE request_kinds SET grant_permission = 'grant_waivers'",
    ],
)
def test_an_officers_direct_sql_to_the_organisation_is_refused(
    postgres: PostgresServer, pg_demo_database: str, statement: str
) -> None:
    refused = pytest.raises(psycopg.errors.InsufficientPrivilege, match="needs the permission")
    with _connect_as(postgres, pg_demo_database, "officer") as officer, refused:
        officer.execute(statement)


def test_an_admins_direct_sql_to_the_organisation_is_allowed(
    postgres: PostgresServer, pg_demo_database: str
) -> None:
    """The same statements pass for a person whose role holds the permissions (so the refusals
    above are the permission's doing, not a missing privilege)."""
    with _connect_as(postgres, pg_demo_database, "admin") as admin:
        admin.execute("UPDATE specialist_teams SET name = name WHERE name = 'Billing'")
        admin.execute("UPDATE categories SET sort_order = sort_order WHERE parent_id IS NULL")
        admin.execute("UPDATE service_centres SET name = name WHERE code = 'CEN'")
        admin.execute("UPDATE request_kinds SET label = label WHERE code = 'waiver'")
