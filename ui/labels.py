"""Translated labels for the domain's enums: the database stores values, people read these."""

from __future__ import annotations

import datetime as dt
import enum

from PySide6.QtCore import QCoreApplication

from desk.domain.model import (
    CaseKind,
    CaseStatus,
    Channel,
    ContactMethod,
    EventKind,
    IdentifierKind,
    Priority,
    ResolutionMethod,
)


def _t(text: str) -> str:
    return QCoreApplication.translate("Labels", text)


_LABELS: dict[enum.Enum, str] = {
    CaseKind.COMPLAINT: "Complaint",
    CaseKind.QUERY: "Query",
    CaseKind.REQUEST: "Request",
    CaseKind.COMPLIMENT: "Compliment",
    Channel.WALK_IN: "Walk-in",
    Channel.PHONE: "Phone",
    Channel.EMAIL: "Email",
    Channel.LETTER: "Letter",
    Channel.SOCIAL_MEDIA: "Social media",
    Priority.LOW: "Low",
    Priority.NORMAL: "Normal",
    Priority.HIGH: "High",
    Priority.URGENT: "Urgent",
    CaseStatus.NEW: "New",
    CaseStatus.IN_PROGRESS: "In progress",
    CaseStatus.AWAITING_CUSTOMER: "Awaiting customer",
    CaseStatus.AWAITING_TEAM: "Awaiting team",
    CaseStatus.AWAITING_DECISION: "Awaiting decision",
    CaseStatus.RESOLVED: "Resolved",
    CaseStatus.CLOSED: "Closed",
    ResolutionMethod.FIRST_CONTACT: "Settled at first contact",
    ResolutionMethod.REFERRED_TO_TEAM: "Referred to a specialist team",
    ResolutionMethod.ESCALATED: "Escalated",
    ResolutionMethod.NEEDS_APPROVAL: "Needs approval",
    ContactMethod.PHONE: "Phone",
    ContactMethod.EMAIL: "Email",
    ContactMethod.LETTER: "Letter",
    ContactMethod.SMS: "Text message (SMS)",
    ContactMethod.IN_PERSON: "In person",
    IdentifierKind.NATIONAL_ID: "National ID",
    IdentifierKind.ACCOUNT_NUMBER: "Account number",
    EventKind.CREATED: "Opened",
    EventKind.CHANGED: "Changed",
    EventKind.STATUS_CHANGED: "Status",
    EventKind.CONTACT: "Contact",
    EventKind.NOTE: "Note",
    EventKind.CUSTOMER_UPDATE: "Update for the customer",
    EventKind.REFERRAL: "Referral",
    EventKind.CONFIRMED_BACK: "Confirmed back",
}


def label(value: enum.Enum | None) -> str:
    """The human label of an enum value, translated; empty for None."""
    if value is None:
        return ""
    return _t(_LABELS.get(value, str(value.value).replace("_", " ").capitalize()))


def contact_phrase(method: ContactMethod | None) -> str:
    """How a contact method reads inside a sentence ("by {contact_method}")."""
    phrases = {
        ContactMethod.PHONE: "phone",
        ContactMethod.EMAIL: "email",
        ContactMethod.LETTER: "letter",
        ContactMethod.SMS: "text message",
        ContactMethod.IN_PERSON: "in person",
    }
    return _t(phrases.get(method, "phone")) if method is not None else _t("phone")


def local_time(value: dt.datetime | None, *, with_time: bool = True) -> str:
    """A UTC timestamp as the officer's local wall-clock time."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    local = value.astimezone()
    return local.strftime("%d %b %Y %H:%M") if with_time else local.strftime("%d %b %Y")
