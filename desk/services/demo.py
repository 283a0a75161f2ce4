"""A deterministic synthetic organisation for demonstrations, training and benchmarks.

Everything comes from one ``random.Random`` seeded by the caller, so the same seed gives the same
organisation, customers, words and references on every machine; only ``today`` anchors the dates.
Rows are written in bulk (PostgreSQL ``COPY``, SQLite ``executemany``) with ids allocated here, so a
million cases load in minutes rather than hours.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
import queue
import random
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from desk.adapters.orm import (
    AuthorityLimit,
    Base,
    Case,
    CaseEvent,
    CaseTransaction,
    Category,
    Customer,
    ReferenceCounter,
    RequestKind,
    Role,
    RolePermission,
    ServiceCentre,
    Setting,
    SpecialistTeam,
    Staff,
)
from desk.config import load_organisation_defaults
from desk.domain.authority import DEFAULT_LADDER
from desk.domain.case import format_reference
from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    ContactMethod,
    EventKind,
    Priority,
    ResolutionMethod,
)
from desk.services.search_text import build_search_text


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


CASES = _table(Case)
CASE_EVENTS = _table(CaseEvent)
CASE_TRANSACTIONS = _table(CaseTransaction)
CATEGORIES_T = _table(Category)
CUSTOMERS = _table(Customer)
REFERENCE_COUNTERS = _table(ReferenceCounter)
ROLES_T = _table(Role)
CENTRES_T = _table(ServiceCentre)
SETTINGS = _table(Setting)
TEAMS_T = _table(SpecialistTeam)
STAFF = _table(Staff)

BATCH_CASES = 5_000
DEMO_SETTING = "demo"
FIXED_LOGINS: tuple[tuple[str, str], ...] = (
    ("officer", "Counter Officer"),
    ("senior", "Senior Officer"),
    ("supervisor", "Supervisor"),
    ("manager", "Manager"),
    ("admin", "Administrator"),
)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSummary:
    cases_added: int
    customers_added: int
    staff_logins: list[tuple[str, str, str]] = field(default_factory=list)


# --- the organisation ----------------------------------------------------------------------------

ROLES: tuple[tuple[str, int, str], ...] = (
    (
        "Counter Officer",
        1,
        "Handles routine contacts at the counter, by phone and in writing; "
        "shows empathy, keeps records and settles what is within the officer limit.",
    ),
    (
        "Senior Officer",
        2,
        "Solves problems that do not fit the norm, spots service-recovery "
        "situations and guides counter officers.",
    ),
    (
        "Supervisor",
        3,
        "Decides waivers and claims above an officer's authority, reviews decisions "
        "on request and vets sensitive replies.",
    ),
    ("Manager", 4, "Decides what is above a supervisor's limit and approves guideline changes."),
    (
        "Administrator",
        5,
        "Configures roles, authority limits, staff, centres, teams, categories and service levels.",
    ),
)

CENTRES: tuple[dict[str, str], ...] = (
    {
        "code": "CEN",
        "name": "Central Service Centre",
        "address": "1 Civic Square, Riverside, 4000",
        "phone": "+1 555 0100 1000",
        "email": "central@cityservices.example.org",
        "opening_hours": "Mon–Fri 08:30–17:00, Sat 09:00–12:00",
    },
    {
        "code": "NTH",
        "name": "Northgate Service Centre",
        "address": "48 Northgate Mall, Level 1, Northgate, 4012",
        "phone": "+1 555 0100 2000",
        "email": "northgate@cityservices.example.org",
        "opening_hours": "Mon–Fri 09:00–17:00",
    },
    {
        "code": "HBR",
        "name": "Harbourside Service Centre",
        "address": "7 Wharf Street, Harbourside, 4020",
        "phone": "+1 555 0100 3000",
        "email": "harbourside@cityservices.example.org",
        "opening_hours": "Mon–Fri 08:00–16:30, Thu until 19:00",
    },
    {
        "code": "WST",
        "name": "Westfield Library & Service Point",
        "address": "220 Westfield Road, Westfield, 4031",
        "phone": "+1 555 0100 4000",
        "email": "westfield@cityservices.example.org",
        "opening_hours": "Tue–Sat 09:30–16:00",
    },
)

TEAMS: tuple[str, ...] = (
    "Billing",
    "Technical",
    "Legal",
    "Licensing",
    "Housing",
    "Roads & Parking",
    "Waste Services",
)

# category -> (team, transaction prefix or "", subcategories)
CATEGORIES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "Billing",
        "Billing",
        "INV",
        ("Overcharge", "Late fee", "Payment not received", "Direct debit", "Refund"),
    ),
    (
        "Water & Sewer",
        "Technical",
        "WTR",
        ("Leak", "Low pressure", "Water quality", "Meter reading", "Sewer blockage"),
    ),
    ("Parking", "Roads & Parking", "PCN", ("Fines", "Permits", "Towing")),
    (
        "Waste collection",
        "Waste Services",
        "",
        ("Missed collection", "Bin replacement", "Bulky items", "Recycling"),
    ),
    (
        "Licences & permits",
        "Licensing",
        "LIC",
        ("Business licence", "Building permit", "Event permit", "Dog registration"),
    ),
    ("Rates / Property tax", "Billing", "RAT", ("Valuation", "Rebate", "Payment plan")),
    ("Roads & streets", "Technical", "", ("Pothole", "Streetlight", "Footpath", "Graffiti")),
    ("Housing", "Housing", "", ("Repairs", "Application", "Neighbour dispute")),
)

STREETS = (
    "Acacia Avenue",
    "Banksia Street",
    "Bridge Road",
    "Canal Lane",
    "Cedar Court",
    "Church Street",
    "Elm Grove",
    "Ferry Road",
    "Hillcrest Drive",
    "Jacaranda Way",
    "King Street",
    "Lakeview Terrace",
    "Market Street",
    "Mill Lane",
    "Ocean Parade",
    "Orchard Close",
    "Park Avenue",
    "Queen Street",
    "Railway Parade",
    "Rose Crescent",
    "Station Street",
    "Victoria Road",
    "Wattle Place",
    "Willow Bend",
)
SUBURBS = (
    "Riverside",
    "Northgate",
    "Harbourside",
    "Westfield",
    "Eastbrook",
    "Greenhill",
    "Kingsford",
    "Millbrook",
    "Oakdale",
    "Southbank",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# (first names, last names, language, weight)
NAME_GROUPS: tuple[tuple[tuple[str, ...], tuple[str, ...], str, int], ...] = (
    (
        (
            "James",
            "Olivia",
            "Liam",
            "Emma",
            "Noah",
            "Charlotte",
            "William",
            "Amelia",
            "Jack",
            "Grace",
            "Thomas",
            "Chloe",
            "Henry",
            "Ruby",
            "Samuel",
            "Isla",
            "Daniel",
            "Lucy",
            "Oliver",
            "Hannah",
            "Michael",
            "Sophie",
            "Peter",
            "Margaret",
            "George",
            "Ellen",
        ),
        (
            "Smith",
            "Jones",
            "Williams",
            "Brown",
            "Taylor",
            "Wilson",
            "Martin",
            "Anderson",
            "Thompson",
            "White",
            "Walker",
            "Harris",
            "Clarke",
            "Robinson",
            "Wright",
            "Mitchell",
            "O'Brien",
            "Campbell",
            "Kelly",
            "Hughes",
            "Murphy",
            "Stewart",
        ),
        "English",
        50,
    ),
    (
        ("José", "María", "Lucía", "Andrés", "Sofía", "Martín", "Valentina", "Raúl", "Inés"),
        ("García", "Álvarez", "Fernández", "Muñoz", "Peña", "Ibáñez", "Rodríguez", "Gómez"),
        "Spanish",
        8,
    ),
    (
        ("Zoë", "François", "Amélie", "Léa", "Jérôme", "Chloé", "Noël", "Hélène"),
        ("Lefèvre", "Girard", "Dubois", "Bérard", "Müller", "Schäfer", "Brontë"),
        "French",
        5,
    ),
    (
        ("Łukasz", "Zofia", "Paweł", "Małgorzata", "Jędrzej", "Agnieszka"),
        ("Wójcik", "Kowalczyk", "Łęcki", "Dąbrowski", "Zieliński"),
        "Polish",
        4,
    ),
    (
        ("Lan", "Minh", "Thảo", "Hùng", "Phương", "Tuấn"),
        ("Nguyễn", "Trần", "Lê", "Phạm", "Đặng"),
        "Vietnamese",
        5,
    ),
    (
        ("Wei", "Mei", "Jun", "Xiu", "Hao", "Ling"),
        ("Chen", "Wang", "Li", "Zhang", "Liu", "Huang"),
        "Mandarin",
        6,
    ),
    (
        ("Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Kavya"),
        ("Patel", "Sharma", "Singh", "Iyer", "Reddy", "Nair"),
        "Hindi",
        6,
    ),
    (("Aroha", "Tane", "Mere", "Wiremu"), ("Ngata", "Parata", "Tūhoe", "Walker"), "Māori", 2),
    (
        ("Søren", "Åsa", "Bjørn", "Ingrid"),
        ("Kierkegård", "Sørensen", "Ødegaard", "Lindqvist"),
        "Danish",
        2,
    ),
    (
        ("محمد", "فاطمة", "أحمد", "ليلى", "يوسف", "مريم"),
        ("العلي", "حداد", "منصور", "الخطيب", "ناصر"),
        "Arabic",
        4,
    ),
    (("דוד", "שרה", "יוסף", "רחל", "אברהם"), ("לוי", "כהן", "מזרחי", "פרץ"), "Hebrew", 2),
)
_GROUP_WEIGHTS = tuple(itertools.accumulate(g[3] for g in NAME_GROUPS))

STAFF_FIRST = (
    "Alex",
    "Bianca",
    "Carlos",
    "Dana",
    "Elif",
    "Farid",
    "Gemma",
    "Hiro",
    "Ines",
    "Jonah",
    "Kiri",
    "Leila",
    "Marcus",
    "Nadia",
    "Owen",
    "Priya",
    "Quentin",
    "Rosa",
    "Sione",
    "Tamsin",
    "Uma",
    "Viktor",
    "Wendy",
    "Yusuf",
    "Zara",
)
STAFF_LAST = (
    "Abbott",
    "Becker",
    "Castillo",
    "Dunn",
    "Evans",
    "Fischer",
    "Gupta",
    "Hale",
    "Ito",
    "Jensen",
    "Khan",
    "Lopez",
    "Moreau",
    "Novak",
    "Okafor",
    "Pillai",
    "Quinn",
    "Reyes",
    "Santos",
    "Tanaka",
)

# --- what customers say ------------------------------------------------------------------------

_GENERIC_WORDS = (
    "I have been trying to sort this out for {days} days and nobody has called me back.",
    "I was told at the {suburb} office that someone would look at it, but I heard nothing.",
)

WORDS: dict[str, tuple[str, ...]] = {
    "Overcharge": (
        "My bill for {month} is {amount} which is almost double what I normally pay. "
        "Nothing changed in our house.",
        "I have been overcharged on invoice {ref}; the usage shown is impossible for a flat "
        "with one person.",
    ),
    "Late fee": (
        "You charged me a late fee of {amount} but I paid on time at the post office.",
        "I was in hospital in {month} and could not pay; now there is a late fee on my account.",
    ),
    "Payment not received": (
        "I paid {amount} by bank transfer on the {day} of {month} and your letter says you "
        "never received it.",
        "My payment reference {ref} shows as unpaid although the money left my account.",
    ),
    "Direct debit": (
        "The direct debit was taken twice this month and now my account is overdrawn.",
        "I cancelled the direct debit in {month} and you still took {amount}.",
    ),
    "Refund": (
        "I closed my account when I moved and I am still waiting for the refund of {amount}.",
    ),
    "Leak": (
        "There is water bubbling up from the footpath outside {house} {street} since yesterday.",
        "A burst pipe on {street} is flooding my garden and the driveway.",
    ),
    "Low pressure": (
        "The water pressure in {street} is so low I cannot run the shower in the mornings.",
    ),
    "Water quality": (
        "The tap water is brown and smells of rust since the works on {street}.",
        "My children's water tastes of chlorine and the kettle is full of white flakes.",
    ),
    "Meter reading": (
        "The meter reading on my bill is wrong; I took a photo of the meter showing {reading}.",
        "Nobody has read my water meter for a year and the estimated bills keep going up.",
    ),
    "Sewer blockage": (
        "The sewer is blocked and overflowing into the backyard of {house} {street}.",
    ),
    "Fines": (
        "I got a parking fine {ref} on {street} but the sign was covered by a tree.",
        "The fine says I parked on {month} {day} but I was overseas; my car was in the garage.",
        "I paid for parking with the app and still received a fine of {amount}.",
    ),
    "Permits": (
        "My resident parking permit expired while I was waiting for the renewal letter.",
        "I need a visitor permit for my carer who comes every day.",
    ),
    "Towing": ("My car was towed from {street} during the street festival and nobody warned us.",),
    "Missed collection": (
        "Our recycling bin was missed again this week on {street}; that is the third time.",
        "The rubbish truck skipped our side of {street} and the bins are overflowing.",
    ),
    "Bin replacement": (
        "Our green bin was stolen and I need a replacement before collection day.",
        "The lid of my bin is broken and birds are tearing the bags open.",
    ),
    "Bulky items": ("I booked a bulky item pickup for an old fridge and nobody came.",),
    "Recycling": (
        "I want to know what can go in the yellow recycling bin now; the leaflet is confusing.",
    ),
    "Business licence": (
        "My café licence renewal has been pending for {days} days and I cannot open the terrace.",
        "I want to start a food truck and do not understand which licence I need.",
    ),
    "Building permit": (
        "I applied for a permit for a carport in {month} and the application shows no progress.",
        "The neighbour is building a second storey without any permit displayed.",
    ),
    "Event permit": (
        "We are organising a street party on {street} and need to close the road for a day.",
    ),
    "Dog registration": (
        "I registered my dog online but received a reminder saying it is unregistered.",
    ),
    "Valuation": (
        "The new valuation of my property is far too high compared with the houses next door.",
    ),
    "Rebate": (
        "I am a pensioner and the pensioner rebate was not applied to my rates this year.",
        "The rates notice {ref} does not show the concession I am entitled to.",
    ),
    "Payment plan": (
        "I lost my job and cannot pay the rates of {amount} in one go; I need a payment plan.",
    ),
    "Pothole": (
        "There is a deep pothole outside {house} {street} that damaged my tyre.",
        "A pothole on {street} near the school crossing is getting bigger every week.",
    ),
    "Streetlight": (
        "The streetlight outside {house} {street} has been out for {days} days; it is dark and "
        "unsafe.",
        "Three streetlights on {street} flicker all night.",
    ),
    "Footpath": ("The footpath on {street} is broken and my mother tripped with her walker.",),
    "Graffiti": ("Someone sprayed graffiti on the bus shelter in {street} again.",),
    "Repairs": (
        "The heating in my council flat has not worked since {month} and it is freezing.",
        "There is mould in the bathroom and the landlord repair request is still open.",
    ),
    "Application": ("I applied for housing assistance {days} days ago and have heard nothing.",),
    "Neighbour dispute": (
        "The neighbours play loud music every night until three in the morning.",
    ),
}
COMPLIMENT_WORDS = (
    "I want to thank {staff} at the {suburb} counter, who was patient and sorted out my bill.",
    "The crew who fixed the leak on {street} were quick and tidy. Please pass on my thanks.",
    "Your officer explained the permit process clearly and kindly. Best service I have had.",
)
QUERY_PREFIX = ("Can you tell me ", "I would like to know ", "Could someone explain ")
QUERY_WORDS = (
    "when the next bulky item collection is for {street}.",
    "how the rates for my property at {house} {street} are worked out.",
    "what documents I need for a business licence.",
    "why my water bill changed from quarterly to monthly.",
    "how to pay a parking fine in instalments.",
)
EXPECTATIONS: dict[str, tuple[str, ...]] = {
    CaseKind.COMPLAINT: (
        "A corrected bill and an apology.",
        "The fee removed from my account.",
        "Someone to come and fix it this week.",
        "A call back from a supervisor.",
        "To be refunded the difference.",
        "An explanation in writing.",
    ),
    CaseKind.QUERY: ("A clear answer by email.", "A call back with the information."),
    CaseKind.REQUEST: (
        "The replacement delivered before collection day.",
        "The permit sent by post.",
        "A payment plan I can afford.",
    ),
    CaseKind.COMPLIMENT: ("That the staff member hears about it.",),
}
UNDERSTANDING = (
    "The customer says the {sub} problem started in {month}; they want it checked and put right.",
    "The customer reports a {sub} issue at {house} {street} and asks us to act on it.",
    "The customer disputes the {sub} charge and asks for it to be reviewed.",
    "The customer needs help with {sub} and is worried about the cost.",
)
ACTIONS = (
    "Checked the account history with the customer.",
    "Took photos and the meter reading from the customer.",
    "Explained the review process and recorded the customer's reasons.",
    "Logged a works request with the details given.",
    "Gave the customer the relevant fact sheet.",
)
NEXT_STEPS = (
    "We will look into this and contact you by {contact} within 5 working days.",
    "Your case has been passed to our {team} team, who will contact you within 10 working days.",
    "A supervisor will review the decision and let you know the outcome.",
    "Please bring the documents we discussed to any service centre; we will then continue.",
    "We have resolved this today. No further action is needed from you.",
    "We will send you an update by {contact} as soon as we hear back.",
    "A crew will inspect the site and we will tell you what they find.",
    "We cannot guarantee the outcome; the {team} team will assess it and write to you.",
)
RESOLUTIONS = (
    "Corrected the bill and sent a new one; the customer accepted the explanation.",
    "Removed the late fee under the officer's authority.",
    "Payment found and allocated to the account.",
    "Crew repaired the fault; the customer confirmed it is working.",
    "Replacement delivered and the customer was told.",
    "Explained the process; the customer was satisfied with the answer.",
    "Review completed; the original decision stands and the reasons were explained.",
    "Fine withdrawn after review of the photos.",
    "Permit issued and posted.",
)
ROOT_CAUSES = (
    "Estimated meter reading.",
    "Payment allocated to the wrong account.",
    "Signage unclear.",
    "Contractor missed the street.",
    "Ageing pipework.",
    "Form processed late.",
    "",
)
SOCIAL = (
    ("Facebook", "https://facebook.example.com/cityservices/posts/{n}"),
    ("X", "https://x.example.com/{handle}/status/{n}"),
    ("Instagram", "https://instagram.example.com/p/{n}"),
    ("Nextdoor", "https://nextdoor.example.com/p/{n}"),
)

STATUSES = tuple(CaseStatus)
KINDS = tuple(CaseKind)
CHANNELS = tuple(Channel)
_KIND_W = tuple(itertools.accumulate((55, 20, 18, 7)))
_CHANNEL_W = tuple(itertools.accumulate((45, 25, 14, 6, 10)))
PRIORITIES = tuple(Priority)
_PRIORITY_W = tuple(itertools.accumulate((15, 60, 20, 5)))
# statuses by age of the case: old ones are mostly closed, recent ones mostly open
_STATUS_BY_AGE: tuple[tuple[int, tuple[CaseStatus, ...], tuple[int, ...]], ...] = (
    (14, STATUSES, tuple(itertools.accumulate((25, 20, 10, 12, 8, 20, 5)))),
    (90, STATUSES, tuple(itertools.accumulate((3, 8, 4, 5, 3, 27, 50)))),
    (10**6, STATUSES, tuple(itertools.accumulate((1, 1, 1, 1, 1, 10, 85)))),
)
_METHODS = tuple(ResolutionMethod)
_METHOD_W = tuple(itertools.accumulate((70, 15, 8, 7)))


# --- writing rows --------------------------------------------------------------------------------


class _Writer:
    """Bulk insert with explicit columns: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.copy = conn.dialect.name == "postgresql"

    def write(self, table: Table, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        if not self.copy:
            self.conn.execute(insert(table), list(rows))
            return
        columns = list(rows[0])
        names = ", ".join(f'"{c}"' for c in columns)
        statement = f'COPY "{table.name}" ({names}) FROM STDIN'
        driver = self.conn.connection.driver_connection
        assert driver is not None
        dbapi_error = self.conn.dialect.loaded_dbapi.Error
        try:
            with driver.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        except dbapi_error as exc:  # the same exception classes as SQLAlchemy's own inserts
            raise DBAPIError.instance(
                statement, None, exc, dbapi_error, dialect=self.conn.dialect
            ) from exc


def _next_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def _reset_sequences(conn: Connection, tables: Sequence[Table]) -> None:
    """Explicit ids bypass the PostgreSQL sequences; move them past the ids used."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f'(SELECT coalesce(max(id), 0) + 1 FROM "{table.name}"), false)'
            )
        )


# --- the organisation ----------------------------------------------------------------------------


@dataclass
class _Org:
    centre_ids: list[int]
    team_ids: dict[str, int]
    # (category id, name, team name, txn prefix, [(subcategory id, name)])
    categories: list[tuple[int, str, str, str, list[tuple[int, str]]]]
    # per centre: (officer ids, supervisor ids)
    officers: dict[int, list[int]]
    supervisors: dict[int, list[int]]
    staff_names: dict[int, str]
    all_officers: list[int]


def _grant_ladder_defaults(conn: Connection, role_name: str, role_id: int) -> None:
    """A new role of the shipped ladder starts with that rung's permissions and limits."""
    permissions, limits = DEFAULT_LADDER[role_name]
    conn.execute(
        insert(_table(RolePermission)),
        [{"role_id": role_id, "permission": str(p)} for p in permissions],
    )
    kind_ids = dict(conn.execute(select(RequestKind.code, RequestKind.id)).all())
    rows = [
        {"role_id": role_id, "kind_id": kind_ids[kind], "limit_minor": amount}
        for kind, amount in limits.items()
        if kind in kind_ids
    ]
    if rows:
        conn.execute(insert(_table(AuthorityLimit)), rows)


def _create_organisation(conn: Connection, rng: random.Random, password_hash: str) -> None:
    defaults = load_organisation_defaults()["organisation"]
    settings = {
        "organisation_name": str(defaults["name"]),
        "currency_code": str(defaults["currency_code"]),
        "currency_symbol": str(defaults["currency_symbol"]),
        "currency_decimals": str(defaults["currency_decimals"]),
        DEMO_SETTING: "1",
    }
    existing = set(conn.execute(select(Setting.key)).scalars())
    conn.execute(
        insert(SETTINGS),
        [{"key": k, "value": v} for k, v in settings.items() if k not in existing],
    )
    if DEMO_SETTING in existing:
        conn.execute(update(SETTINGS).where(Setting.key == DEMO_SETTING).values(value="1"))

    role_ids: dict[str, int] = dict(conn.execute(select(Role.name, Role.id)).all())
    for name, rank, description in ROLES:
        if name not in role_ids:
            role_ids[name] = conn.execute(
                insert(ROLES_T)
                .values(name=name, rank=rank, description=description)
                .returning(ROLES_T.c.id)
            ).scalar_one()
            _grant_ladder_defaults(conn, name, role_ids[name])

    centre_ids: list[int] = []
    for centre in CENTRES:
        found = conn.execute(
            select(ServiceCentre.id).where(ServiceCentre.code == centre["code"])
        ).scalar_one_or_none()
        if found is None:
            found = conn.execute(
                insert(CENTRES_T)
                .values(uuid=uuid.UUID(int=rng.getrandbits(128), version=4), active=True, **centre)
                .returning(CENTRES_T.c.id)
            ).scalar_one()
        centre_ids.append(int(found))

    existing_teams = set(conn.execute(select(SpecialistTeam.name)).scalars())
    team_rows = [
        {"name": t, "email": _slug(t) + "@cityservices.example.org", "active": True}
        for t in TEAMS
        if t not in existing_teams
    ]
    if team_rows:
        conn.execute(insert(TEAMS_T), team_rows)

    for order, (name, _team, _prefix, subs) in enumerate(CATEGORIES):
        parent = conn.execute(
            select(Category.id).where(Category.name == name, Category.parent_id.is_(None))
        ).scalar_one_or_none()
        if parent is None:
            parent = conn.execute(
                insert(CATEGORIES_T)
                .values(name=name, parent_id=None, active=True, sort_order=order)
                .returning(CATEGORIES_T.c.id)
            ).scalar_one()
        have = set(
            conn.execute(select(Category.name).where(Category.parent_id == parent)).scalars()
        )
        rows = [
            {"name": sub, "parent_id": parent, "active": True, "sort_order": i}
            for i, sub in enumerate(subs)
            if sub not in have
        ]
        if rows:
            conn.execute(insert(CATEGORIES_T), rows)

    _create_staff(conn, rng, password_hash, role_ids, centre_ids)


def _create_staff(
    conn: Connection,
    rng: random.Random,
    password_hash: str,
    role_ids: dict[str, int],
    centre_ids: list[int],
) -> None:
    """Every level in every centre; officers report to a supervisor, supervisors to the manager."""
    names = [f"{f} {last}" for f in STAFF_FIRST for last in STAFF_LAST]
    rng.shuffle(names)
    name_iter = iter(names)
    used: set[str] = set()
    created = dt.datetime(2020, 1, 6, 9, 0, tzinfo=dt.UTC)

    def add(role: str, centre_id: int, supervisor_id: int | None, username: str = "") -> int:
        full_name = next(name_iter)
        if not username:
            first, last = full_name.split(" ", 1)
            base = _slug(first[0] + last)
            username, n = base, 2
            while username in used or username in dict(FIXED_LOGINS):
                username, n = f"{base}{n}", n + 1
        used.add(username)
        return int(
            conn.execute(
                insert(STAFF)
                .values(
                    uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
                    username=username,
                    full_name=full_name,
                    email=f"{username}@cityservices.example.org",
                    role_id=role_ids[role],
                    centre_id=centre_id,
                    supervisor_id=supervisor_id,
                    active=True,
                    password_hash=password_hash,
                    db_role=None,
                    created_at=created,
                )
                .returning(STAFF.c.id)
            ).scalar_one()
        )

    head_manager: int | None = None
    for index, centre_id in enumerate(centre_ids):
        first = index == 0
        manager = add("Manager", centre_id, head_manager, "manager" if first else "")
        head_manager = head_manager or manager
        add("Administrator", centre_id, manager, "admin" if first else "")
        supervisors = [
            add("Supervisor", centre_id, manager, "supervisor" if first and i == 0 else "")
            for i in range(2)
        ]
        for i in range(2):
            login = "senior" if first and i == 0 else ""
            add("Senior Officer", centre_id, supervisors[i % 2], login)
        for i in range(6):
            login = "officer" if first and i == 0 else ""
            add("Counter Officer", centre_id, supervisors[i % 2], login)


def _load_organisation(conn: Connection) -> _Org:
    centre_ids = [
        int(i) for i in conn.execute(select(ServiceCentre.id).order_by(ServiceCentre.id)).scalars()
    ]
    team_ids = {
        str(n): int(i) for n, i in conn.execute(select(SpecialistTeam.name, SpecialistTeam.id))
    }
    known = {c[0]: c for c in CATEGORIES}
    rows = conn.execute(
        select(Category.id, Category.name, Category.parent_id).order_by(
            Category.sort_order, Category.id
        )
    ).all()
    categories: list[tuple[int, str, str, str, list[tuple[int, str]]]] = []
    for cid, name, parent in rows:
        if parent is None:
            team, prefix = (known[name][1], known[name][2]) if name in known else ("", "")
            subs = [(int(s), str(sn)) for s, sn, p in rows if p == cid]
            categories.append((int(cid), str(name), team, prefix, subs))
    officers: dict[int, list[int]] = {c: [] for c in centre_ids}
    supervisors: dict[int, list[int]] = {c: [] for c in centre_ids}
    staff_names: dict[int, str] = {}
    for sid, full_name, centre_id, rank in conn.execute(
        select(Staff.id, Staff.full_name, Staff.centre_id, Role.rank)
        .join(Role, Role.id == Staff.role_id)
        .where(Staff.active.is_(True))
        .order_by(Staff.id)
    ):
        staff_names[int(sid)] = str(full_name)
        target = officers if rank <= 2 else supervisors if rank <= 4 else None
        if target is not None:
            target.setdefault(int(centre_id), []).append(int(sid))
    centre_ids = [c for c in centre_ids if officers.get(c)]
    if not centre_ids:
        raise RuntimeError("The demo needs at least one active officer in a service centre.")
    for c in centre_ids:
        if not supervisors.get(c):
            supervisors[c] = officers[c]
    all_officers = [s for c in centre_ids for s in officers[c]]
    return _Org(centre_ids, team_ids, categories, officers, supervisors, staff_names, all_officers)


# --- customers -----------------------------------------------------------------------------------


def _ascii(text_: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text_)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum()).lower()


def _slug(text_: str) -> str:
    return _ascii(text_) or "staff"


_CONTACT_METHODS = tuple(ContactMethod)


def _customer_rows(
    rng: random.Random,
    first_id: int,
    first_seq: int,
    count: int,
    start: dt.datetime,
    creators: list[int],
) -> Iterator[dict[str, Any]]:
    """New customers; the first few of each run are forced to show non-ASCII and RTL names."""
    forced = (9, 10, 1)  # Arabic, Hebrew, Spanish
    for i in range(count):
        group = (
            NAME_GROUPS[forced[i]]
            if i < len(forced)
            else NAME_GROUPS[bisect.bisect_right(_GROUP_WEIGHTS, rng.randrange(_GROUP_WEIGHTS[-1]))]
        )
        first, last, language = rng.choice(group[0]), rng.choice(group[1]), group[2]
        full_name = f"{first} {last}"
        seq = first_seq + i
        number = str(20_000_000 + (seq * 7_919) % 70_000_000)
        phone = f"+1 555 01{rng.randrange(100):02d} {rng.randrange(10_000):04d}"
        local = _ascii(first)[:1] + _ascii(last)
        domain = rng.choice(("example.org", "example.com", "mail.example.net"))
        email = f"{local or 'customer'}{seq % 1000}@{domain}" if rng.random() < 0.8 else ""
        methods = [m for m in _CONTACT_METHODS if m is not ContactMethod.EMAIL or email]
        yield {
            "id": first_id + i,
            "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
            "full_name": full_name,
            "name_key": full_name.casefold(),
            "customer_number": number,
            "national_id": (
                f"{chr(65 + rng.randrange(26))}{chr(65 + rng.randrange(26))}"
                f"{rng.randrange(10**7):07d}"
                if rng.random() < 0.8
                else None
            ),
            "account_number": str(rng.randrange(10**7, 10**12)) if rng.random() < 0.75 else None,
            "phone": phone,
            "phone_digits": "".join(ch for ch in phone if ch.isdigit()),
            "email": email,
            "address": f"{rng.randrange(1, 300)} {rng.choice(STREETS)}, {rng.choice(SUBURBS)}",
            "preferred_contact_method": rng.choice(methods).value if rng.random() < 0.9 else None,
            "preferred_language": language,
            "created_at": start - dt.timedelta(seconds=rng.randrange(365 * 86_400)),
            "created_by_id": rng.choice(creators) if rng.random() < 0.7 else None,
        }


# --- cases ---------------------------------------------------------------------------------------


_CustomerInfo = tuple[int, str, str, str | None, str | None, str]


@dataclass
class _CaseFactory:
    """Makes one case with its transactions and timeline; all randomness from ``rng``."""

    rng: random.Random
    org: _Org
    end: dt.datetime
    counters: dict[int, int]
    next_txn_id: int
    next_event_id: int

    def make(
        self, case_id: int, opened_at: dt.datetime, customer: _CustomerInfo, forced: int | None
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        rng, org = self.rng, self.org
        r = rng.random
        kind = KINDS[bisect.bisect_right(_KIND_W, rng.randrange(_KIND_W[-1]))]
        channel = CHANNELS[bisect.bisect_right(_CHANNEL_W, rng.randrange(_CHANNEL_W[-1]))]
        priority = PRIORITIES[bisect.bisect_right(_PRIORITY_W, rng.randrange(_PRIORITY_W[-1]))]
        age_days = (self.end - opened_at).days
        for limit, statuses, weights in _STATUS_BY_AGE:
            if age_days <= limit:
                status = statuses[bisect.bisect_right(weights, rng.randrange(weights[-1]))]
                break
        if forced is not None:
            status = STATUSES[forced % len(STATUSES)]
            if forced < len(KINDS):
                kind = KINDS[forced]
            if forced < len(CHANNELS):
                channel = CHANNELS[forced]

        cat_id, cat_name, team_name, prefix, subs = rng.choice(org.categories)
        sub_id, sub_name = rng.choice(subs) if subs else (None, cat_name)
        centre = rng.choice(org.centre_ids)
        creator = rng.choice(org.officers[centre])
        month = MONTHS[(opened_at.month - 2) % 12]
        street = rng.choice(STREETS)
        slots = {
            "month": month,
            "street": street,
            "suburb": rng.choice(SUBURBS),
            "house": rng.randrange(1, 300),
            "days": rng.randrange(3, 60),
            "day": rng.randrange(1, 28),
            "amount": f"${rng.randrange(20, 2_000)}.{rng.randrange(100):02d}",
            "reading": rng.randrange(1_000, 99_999),
            "ref": "",
            "sub": sub_name.lower(),
            "staff": org.staff_names[creator].split()[0],
            "team": team_name or "specialist",
            "contact": rng.choice(("phone", "email", "letter")),
        }

        transactions: list[dict[str, Any]] = []
        if prefix and kind is not CaseKind.COMPLIMENT and r() < 0.85:
            for position in range(1 if r() < 0.8 else 2):
                occurred = (opened_at - dt.timedelta(days=rng.randrange(1, 120))).date()
                transactions.append(
                    {
                        "id": self.next_txn_id,
                        "case_id": case_id,
                        "position": position,
                        "reference": f"{prefix}-{occurred.year}-{rng.randrange(1, 10**5):05d}"
                        + ("" if position == 0 else "-B"),
                        "amount_minor": rng.randrange(1_000, 250_000),
                        "occurred_on": occurred,
                    }
                )
                self.next_txn_id += 1
            slots["ref"] = transactions[0]["reference"]
        else:
            slots["ref"] = f"{prefix or 'REF'}-{opened_at.year}-{rng.randrange(1, 10**5):05d}"

        if kind is CaseKind.COMPLIMENT:
            words = rng.choice(COMPLIMENT_WORDS).format(**slots)
        elif kind is CaseKind.QUERY:
            words = rng.choice(QUERY_PREFIX) + rng.choice(QUERY_WORDS).format(**slots)
        else:
            words = rng.choice(WORDS.get(sub_name, _GENERIC_WORDS)).format(**slots)
            if r() < 0.2:
                words += " " + rng.choice(_GENERIC_WORDS).format(**slots)
        expectation = rng.choice(EXPECTATIONS[kind])
        understanding = rng.choice(UNDERSTANDING).format(**slots)
        actions = rng.choice(ACTIONS) if r() < 0.7 else ""
        next_steps = rng.choice(NEXT_STEPS).format(**slots)
        confirmed = r() < 0.92
        confirmed_at = (
            opened_at + dt.timedelta(seconds=rng.randrange(60, 900)) if confirmed else None
        )

        social_platform = social_handle = social_url = ""
        if channel is Channel.SOCIAL_MEDIA:
            platform, url = rng.choice(SOCIAL)
            social_platform = platform
            social_handle = "@" + (_ascii(customer[1]) or "resident") + str(rng.randrange(100))
            social_url = url.format(n=rng.randrange(10**9, 10**10), handle=social_handle[1:])

        resolved = status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
        resolution, method, root_cause = "", None, ""
        if resolved:
            resolution = rng.choice(RESOLUTIONS)
            method = _METHODS[bisect.bisect_right(_METHOD_W, rng.randrange(_METHOD_W[-1]))].value
            root_cause = rng.choice(ROOT_CAUSES)

        team_id: int | None = None
        officer: int | None = creator
        if status is CaseStatus.AWAITING_TEAM or (
            method == ResolutionMethod.REFERRED_TO_TEAM and team_name
        ):
            team_id = org.team_ids.get(team_name) or (
                rng.choice(list(org.team_ids.values())) if org.team_ids else None
            )
            if team_id is not None and r() < 0.5:
                officer = None
        elif status is CaseStatus.AWAITING_DECISION or method in (
            ResolutionMethod.ESCALATED,
            ResolutionMethod.NEEDS_APPROVAL,
        ):
            officer = rng.choice(org.supervisors[centre])

        events, updated_at, closed_at = self._timeline(
            case_id, opened_at, channel, creator, officer, status, confirmed_at, team_name
        )
        year = opened_at.year
        number = self.counters.get(year, 0) + 1
        self.counters[year] = number
        reference = format_reference(year, number)
        search = build_search_text(
            reference=reference,
            customer_name=customer[1],
            customer_number=customer[2],
            identifiers=[i for i in (customer[3], customer[4]) if i],
            phone=customer[5],
            texts=[words, expectation, understanding, actions, next_steps, resolution, root_cause],
            transaction_refs=[t["reference"] for t in transactions],
        )
        row = {
            "id": case_id,
            "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
            "reference": reference,
            "version": 1,
            "kind": kind.value,
            "channel": channel.value,
            "social_platform": social_platform,
            "social_handle": social_handle,
            "social_post_url": social_url,
            "category_id": cat_id,
            "subcategory_id": sub_id,
            "priority": priority.value,
            "status": status.value,
            "centre_id": centre,
            "customer_id": customer[0],
            "assigned_officer_id": officer,
            "assigned_team_id": team_id,
            "created_by_id": creator,
            "customer_words": words,
            "customer_expectation": expectation,
            "officer_understanding": understanding,
            "customer_confirmed": confirmed,
            "customer_confirmed_at": confirmed_at,
            "root_cause": root_cause,
            "actions_agreed": actions,
            "next_steps": next_steps,
            "customer_comfortable": (r() < 0.9) if confirmed else None,
            "resolution": resolution,
            "resolution_method": method,
            "opened_at": opened_at,
            "updated_at": updated_at,
            "closed_at": closed_at,
            "search_text": search,
        }
        return row, transactions, events

    def _timeline(
        self,
        case_id: int,
        opened_at: dt.datetime,
        channel: Channel,
        creator: int,
        officer: int | None,
        status: CaseStatus,
        confirmed_at: dt.datetime | None,
        team_name: str,
    ) -> tuple[list[dict[str, Any]], dt.datetime, dt.datetime | None]:
        rng = self.rng
        events: list[dict[str, Any]] = []
        span = max(60, int((self.end - opened_at).total_seconds()) - 60)
        at = opened_at

        def event(kind: EventKind, actor: int, summary: str, ch: Channel | None = None) -> None:
            events.append(
                {
                    "id": self.next_event_id,
                    "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
                    "case_id": case_id,
                    "at": at,
                    "actor_id": actor,
                    "kind": kind.value,
                    "channel": ch.value if ch else None,
                    "summary": summary,
                }
            )
            self.next_event_id += 1

        def later(max_seconds: int) -> dt.datetime:
            step = rng.randrange(60, max(61, min(max_seconds, span // 4)))
            return min(at + dt.timedelta(seconds=step), opened_at + dt.timedelta(seconds=span))

        how = channel.value.replace("_", " ")
        event(EventKind.CREATED, creator, f"Case opened ({how}).", channel)
        if confirmed_at is not None:
            at = confirmed_at
            event(EventKind.CONFIRMED_BACK, creator, "Read back; the customer agreed.")
        actor = officer or creator
        closed_at: dt.datetime | None = None
        if status is not CaseStatus.NEW and span > 3_600:
            at = later(2 * 86_400)
            event(EventKind.STATUS_CHANGED, actor, "Status: New → In progress.")
            if status is CaseStatus.AWAITING_TEAM or (team_name and rng.random() < 0.15):
                at = later(3 * 86_400)
                event(EventKind.REFERRAL, actor, f"Passed to the {team_name or 'specialist'} team.")
            if rng.random() < 0.5:
                at = later(5 * 86_400)
                event(
                    EventKind.CONTACT,
                    actor,
                    "Called the customer to ask for more details.",
                    Channel.PHONE,
                )
            if rng.random() < 0.4:
                at = later(7 * 86_400)
                event(EventKind.CUSTOMER_UPDATE, actor, "Told the customer where the case stands.")
            if rng.random() < 0.25:
                at = later(7 * 86_400)
                event(EventKind.NOTE, actor, "Checked the records; notes added to the file.")
            if status in (CaseStatus.RESOLVED, CaseStatus.CLOSED):
                at = later(14 * 86_400)
                event(EventKind.STATUS_CHANGED, actor, "Status: In progress → Resolved.")
            if status is CaseStatus.CLOSED:
                at = later(14 * 86_400)
                closed_at = at
                event(EventKind.STATUS_CHANGED, actor, "Status: Resolved → Closed.")
        elif status is CaseStatus.CLOSED:
            closed_at = at = later(3_600)
            event(EventKind.STATUS_CHANGED, actor, "Status: Resolved → Closed.")
        return events, at, closed_at


def _opening_times(rng: random.Random, count: int, end: dt.datetime) -> list[dt.datetime]:
    """Office-hour timestamps spread over the two years before ``end``, oldest first."""
    start_day = end.date() - dt.timedelta(days=730)
    offsets = sorted(
        rng.randrange(730) * 86_400 + 28_800 + rng.randrange(9 * 3_600) for _ in range(count)
    )
    base = dt.datetime.combine(start_day, dt.time(0), tzinfo=dt.UTC)
    return [base + dt.timedelta(seconds=s) for s in offsets]


def _save_counters(conn: Connection, counters: dict[int, int], years: Sequence[int]) -> None:
    table = REFERENCE_COUNTERS
    have = set(conn.execute(select(table.c.year).where(table.c.year.in_(list(years)))).scalars())
    for year in years:
        if year in have:
            conn.execute(
                update(table)
                .where(table.c.year == year, table.c.last_number < counters[year])
                .values(last_number=counters[year])
            )
        else:
            conn.execute(insert(table).values(year=year, last_number=counters[year]))


@dataclass
class _Batch:
    size: int
    cases: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    counters: dict[int, int] = field(default_factory=dict)


class _BackgroundWriter:
    """Writes each batch in its own transaction on a second thread while the next is generated.

    Generating rows is Python work and inserting them is server (or SQLite C) work, so on two
    cores they overlap. Batches are written in order and the data does not depend on timing.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.committed = 0
        self.error: BaseException | None = None
        self._queue: queue.Queue[_Batch | None] = queue.Queue(maxsize=2)
        self._thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)
        self._thread.start()

    def put(self, batch: _Batch) -> None:
        self._raise_error()
        self._queue.put(batch)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._raise_error()

    def _raise_error(self) -> None:
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self.error is not None:
                continue  # drain; the generating thread raises the error
            try:
                with self.engine.begin() as conn:
                    writer = _Writer(conn)
                    writer.write(CASES, batch.cases)
                    writer.write(CASE_TRANSACTIONS, batch.transactions)
                    writer.write(CASE_EVENTS, batch.events)
                    _save_counters(conn, batch.counters, list(batch.counters))
                self.committed += batch.size
            except BaseException as exc:  # handed to the generating thread
                self.error = exc


# --- entry points --------------------------------------------------------------------------------


def generate_demo(
    engine: Engine,
    *,
    cases: int = 200,
    seed: int = 1,
    progress: ProgressCallback | None = None,
    today: dt.date | None = None,
) -> DemoSummary:
    """Fill a migrated database with a demo organisation, or add cases to an existing one.

    The same seed and ``today`` give the same data; a second run continues the references.
    """
    today = today or dt.date.today()
    end = dt.datetime.combine(today, dt.time(0), tzinfo=dt.UTC)
    with engine.begin() as conn:
        staff_count = conn.execute(select(func.count()).select_from(STAFF)).scalar_one()
        existing_cases = conn.execute(select(func.count()).select_from(CASES)).scalar_one()
        new_org = staff_count == 0
        rng = random.Random(f"desk-demo:{seed}:{existing_cases}")
        if new_org:
            from argon2 import PasswordHasher

            password = str(load_organisation_defaults()["demo"]["password"])
            _create_organisation(conn, rng, PasswordHasher().hash(password))
        org = _load_organisation(conn)
        customers_wanted = max(50, cases // 2) if new_org else cases // 2
        next_customer = _next_id(conn, CUSTOMERS)
        customer_seq = conn.execute(select(func.count()).select_from(CUSTOMERS)).scalar_one()
        pool: list[_CustomerInfo] = [
            (int(i), str(n), str(c or ""), ni, an, str(p))
            for i, n, c, ni, an, p in conn.execute(
                select(
                    Customer.id,
                    Customer.full_name,
                    Customer.customer_number,
                    Customer.national_id,
                    Customer.account_number,
                    Customer.phone,
                ).order_by(Customer.id)
            )
        ]
        counters = {
            int(y): int(n)
            for y, n in conn.execute(select(ReferenceCounter.year, ReferenceCounter.last_number))
        }
        case_id = _next_id(conn, CASES)
        txn_id = _next_id(conn, CASE_TRANSACTIONS)
        event_id = _next_id(conn, CASE_EVENTS)

    customer_rows = _customer_rows(
        rng,
        next_customer,
        customer_seq,
        customers_wanted,
        end - dt.timedelta(days=730),
        org.all_officers,
    )
    while True:
        chunk = list(itertools.islice(customer_rows, BATCH_CASES * 2))
        if not chunk:
            break
        with engine.begin() as conn:
            _Writer(conn).write(CUSTOMERS, chunk)
        pool.extend(
            (
                r["id"],
                r["full_name"],
                r["customer_number"],
                r["national_id"],
                r["account_number"],
                r["phone"],
            )
            for r in chunk
        )
    if not pool and cases:
        raise RuntimeError("The demo needs customers to attach cases to.")

    factory = _CaseFactory(rng, org, end, counters, txn_id, event_id)
    times = _opening_times(rng, cases, end)
    writer = _BackgroundWriter(engine)
    reported = 0
    done = 0
    try:
        while done < cases:
            size = min(BATCH_CASES, cases - done)
            batch = _Batch(size=size)
            years: dict[int, None] = {}
            for i in range(done, done + size):
                from_end = cases - 1 - i
                row, txns, events = factory.make(
                    case_id + i,
                    times[i],
                    rng.choice(pool),
                    from_end if from_end < len(STATUSES) else None,
                )
                batch.cases.append(row)
                batch.transactions.extend(txns)
                batch.events.extend(events)
                years[times[i].year] = None
            batch.counters = {year: counters[year] for year in years}
            writer.put(batch)
            done += size
            if progress is not None and writer.committed > reported:
                reported = writer.committed
                progress(reported, cases)
    finally:
        writer.close()
    if progress is not None and cases > reported:
        progress(cases, cases)

    with engine.begin() as conn:
        _reset_sequences(
            conn,
            [CUSTOMERS, CASES, CASE_TRANSACTIONS, CASE_EVENTS],
        )
        if new_org:
            _add_script_runs(conn, random.Random(f"desk-demo-runs:{seed}"), cases // 8)
    if engine.dialect.name == "postgresql" and cases >= 50_000:
        with engine.connect() as conn:  # fresh statistics so the planner sees the new rows
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "ANALYZE customers, cases, case_transactions, case_events"
            )
    return DemoSummary(
        cases_added=cases, customers_added=customers_wanted, staff_logins=demo_logins(engine)
    )


def demo_logins(engine: Engine) -> list[tuple[str, str, str]]:
    """The fixed logins (user, password, role) the login screen offers on a demo database."""
    with engine.connect() as conn:
        flag = conn.execute(
            select(Setting.value).where(Setting.key == DEMO_SETTING)
        ).scalar_one_or_none()
        if flag != "1":
            return []
        roles = dict(
            conn.execute(
                select(Staff.username, Role.name)
                .join(Role, Role.id == Staff.role_id)
                .where(Staff.username.in_([u for u, _ in FIXED_LOGINS]))
            ).all()
        )
    password = str(load_organisation_defaults()["demo"]["password"])
    return [(u, password, str(roles[u])) for u, _ in FIXED_LOGINS if u in roles]


def _add_script_runs(conn: Connection, rng: random.Random, wanted: int) -> None:
    """Guided-script runs on recent complaints, walked through the shipped scripts with random
    answers as officers would, so the script insight report has something to show."""
    from desk.adapters.orm import ScriptRun as ScriptRunRow
    from desk.domain.model import CaseKind
    from desk.domain.run_log import current_step, escalation_turn, is_safety_incident
    from desk.domain.script_run import ScriptRun
    from desk.domain.scripts import Outcome, StepKind, load_builtin_library

    library = load_builtin_library()
    scripts = [s.id for s in library]
    if not scripts or wanted <= 0:
        return
    chosen = conn.execute(
        select(Case.id, Case.created_by_id, Case.opened_at)
        .where(Case.kind == CaseKind.COMPLAINT.value)
        .order_by(Case.opened_at.desc())
        .limit(wanted)
    ).all()
    rows: list[dict[str, Any]] = []
    for case_id, officer_id, opened_at in chosen:
        opened = opened_at if opened_at.tzinfo else opened_at.replace(tzinfo=dt.UTC)
        clock = (opened + dt.timedelta(seconds=15 * i) for i in itertools.count())
        run = ScriptRun(library, rng.choice(scripts), next(clock), language="en")
        for _ in range(60):
            if run.finished:
                break
            step = run.step
            if step.kind is StepKind.ASK:
                run.choose(rng.choice(step.answers).id, next(clock))
            else:
                if step.kind is StepKind.CHECK:
                    run.tick(True, next(clock))
                run.next(next(clock))
        if not run.finished:
            run.end_now(Outcome.CUSTOMER_LEFT, next(clock))
        record = run.record()
        where = current_step(record)
        turn = escalation_turn(record)
        incident = is_safety_incident(record)
        rows.append(
            {
                "uuid": uuid.UUID(int=rng.getrandbits(128), version=4),
                "case_id": case_id,
                "officer_id": officer_id,
                "script_id": record.script_id,
                "script_version": record.script_version,
                "language": record.language,
                "started_at": record.started_at,
                "ended_at": record.ended_at,
                "outcome": record.outcome.value if record.outcome else None,
                "last_step_id": where[1] if where else None,
                "safety_incident": incident,
                "incident_reported_at": record.ended_at if incident else None,
                "incident_report": (
                    "The customer shouted and threatened staff; security attended and the "
                    "customer left the centre. Nobody was hurt."
                    if incident
                    else ""
                ),
                "record": json.dumps(record.as_dict(), ensure_ascii=False, sort_keys=True),
                "turn_script_id": turn[0] if turn else None,
                "turn_step_id": turn[1] if turn else None,
                "turn_answer_id": turn[2] if turn else None,
            }
        )
    if rows:
        conn.execute(insert(_table(ScriptRunRow)), rows)
