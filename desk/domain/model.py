"""The words of the domain as plain values: kinds, channels, statuses and the records they describe.

Enums store their lowercase value in the database; the user interface translates the labels.
"""

from __future__ import annotations

import enum


class CaseKind(enum.StrEnum):
    COMPLAINT = "complaint"
    QUERY = "query"
    REQUEST = "request"
    COMPLIMENT = "compliment"


class Channel(enum.StrEnum):
    WALK_IN = "walk_in"
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    SOCIAL_MEDIA = "social_media"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class CaseStatus(enum.StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    AWAITING_CUSTOMER = "awaiting_customer"
    AWAITING_TEAM = "awaiting_team"
    AWAITING_DECISION = "awaiting_decision"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ResolutionMethod(enum.StrEnum):
    FIRST_CONTACT = "first_contact"
    REFERRED_TO_TEAM = "referred_to_team"
    ESCALATED = "escalated"
    NEEDS_APPROVAL = "needs_approval"


class ContactMethod(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"
    IN_PERSON = "in_person"


class IdentifierKind(enum.StrEnum):
    NATIONAL_ID = "national_id"
    ACCOUNT_NUMBER = "account_number"


class EventKind(enum.StrEnum):
    """What a line of the case timeline records."""

    CREATED = "created"
    CHANGED = "changed"
    STATUS_CHANGED = "status_changed"
    CONTACT = "contact"
    NOTE = "note"
    CUSTOMER_UPDATE = "customer_update"
    REFERRAL = "referral"
    CONFIRMED_BACK = "confirmed_back"


OPEN_STATUSES: frozenset[CaseStatus] = frozenset(
    {
        CaseStatus.NEW,
        CaseStatus.IN_PROGRESS,
        CaseStatus.AWAITING_CUSTOMER,
        CaseStatus.AWAITING_TEAM,
        CaseStatus.AWAITING_DECISION,
    }
)
