"""The acknowledgement slip the customer takes home: what we recorded and how to reach us.

All user text is escaped: a customer's words may contain anything, including markup.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QWidget

from desk.domain.outbox import is_provisional_reference
from desk.services.dto import CaseView, ReferenceData
from ui.labels import label, local_time


def _t(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("Slip", text)


def _para(text: str) -> str:
    """Escaped text with its line breaks kept."""
    return "<br>".join(escape(line) for line in text.strip().splitlines()) or "&nbsp;"


def slip_html(view: CaseView, reference: ReferenceData) -> str:
    """The slip as a self-contained HTML document (Qt's rich-text subset)."""
    d = view.details
    centre = view.centre
    currency = reference.currency
    rows = []
    for txn in d.transactions:
        amount = currency.format(txn.amount_minor) if txn.amount_minor is not None else ""
        when = txn.occurred_on.strftime("%d %b %Y") if txn.occurred_on else ""
        rows.append(
            f"<tr><td>{escape(txn.reference)}</td><td align='right'>{escape(amount)}</td>"
            f"<td>{escape(when)}</td></tr>"
        )
    transactions = ""
    if rows:
        transactions = (
            f"<h3>{escape(_t('Transactions'))}</h3>"
            "<table cellspacing='0' cellpadding='4' border='1' width='100%'>"
            f"<tr><th align='left'>{escape(_t('Reference'))}</th>"
            f"<th align='right'>{escape(_t('Amount'))}</th>"
            f"<th align='left'>{escape(_t('Date'))}</th></tr>" + "".join(rows) + "</table>"
        )
    sections = [
        (_t("What you told us"), d.customer_words),
        (_t("What you would like"), d.customer_expectation),
        (_t("Our understanding"), d.officer_understanding),
        (_t("What we agreed"), d.actions_agreed),
        (_t("What happens next"), d.next_steps),
    ]
    body = "".join(
        f"<h3>{escape(title)}</h3><p>{_para(text)}</p>" for title, text in sections if text.strip()
    )
    referral = ""
    if view.assigned_team_name:
        referral = (
            f"<p>{escape(_t('Passed to our team:'))} <b>{escape(view.assigned_team_name)}</b></p>"
        )
    contact_lines = [
        escape(centre.name),
        _para(centre.address) if centre.address else "",
        escape(_t("Phone: ")) + escape(centre.phone) if centre.phone else "",
        escape(_t("Email: ")) + escape(centre.email) if centre.email else "",
        escape(_t("Opening hours: ")) + escape(centre.opening_hours)
        if centre.opening_hours
        else "",
    ]
    contact = "<br>".join(line for line in contact_lines if line)
    reference_label = _t("Reference")
    provisional = ""
    if is_provisional_reference(view.reference):
        # Recorded while the counter was offline: the number is this counter's own until the
        # case reaches the server; it keeps working there, and the final one is sent later.
        reference_label = _t("Provisional reference")
        provisional = (
            "<tr><td></td><td><i>"
            + escape(
                _t(
                    "Recorded while our system was offline. This reference is provisional: it "
                    "will keep working, and we will give you the final reference when the case "
                    "reaches our main system."
                )
            )
            + "</i></td></tr>"
        )
    return f"""<html><head><meta charset="utf-8"><title>{escape(view.reference)}</title></head>
<body style="font-family: sans-serif; font-size: 10pt;">
<h1 style="color:#1f3a5f">{escape(reference.organisation_name)}</h1>
<p>{escape(centre.name)}</p>
<h2>{escape(_t("Acknowledgement of your case"))}</h2>
<table cellspacing="0" cellpadding="3">
<tr><td><b>{escape(reference_label)}</b></td><td><b>{escape(view.reference)}</b></td></tr>
{provisional}
<tr><td>{escape(_t("Date"))}</td><td>{escape(local_time(view.opened_at))}</td></tr>
<tr><td>{escape(_t("Customer"))}</td><td>{escape(view.customer.full_name)}</td></tr>
<tr><td>{escape(_t("Type"))}</td><td>{escape(label(view.details.kind))}</td></tr>
<tr><td>{escape(_t("Status"))}</td><td>{escape(label(view.status))}</td></tr>
</table>
{body}
{transactions}
{referral}
<h3>{escape(_t("How to contact us"))}</h3>
<p>{escape(_t("Please quote your reference"))} <b>{escape(view.reference)}</b>
{escape(_t("whenever you contact us about this case."))}</p>
<p>{contact}</p>
</body></html>"""


def slip_document(view: CaseView, reference: ReferenceData) -> QTextDocument:
    document = QTextDocument()
    document.setHtml(slip_html(view, reference))
    return document


def save_slip_pdf(view: CaseView, reference: ReferenceData, path: Path | str) -> Path:
    """Write the slip as an A4 PDF (to e-mail it or keep a copy)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = QPdfWriter(str(path))
    writer.setTitle(f"{reference.organisation_name} — {view.reference}")
    writer.setCreator("Desk")
    writer.setResolution(300)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(15, 15, 15, 15),
            QPageLayout.Unit.Millimeter,
        )
    )
    document = slip_document(view, reference)
    document.print_(writer)
    del writer  # finishes the file
    return path


def print_slip(view: CaseView, reference: ReferenceData, parent: QWidget | None = None) -> bool:
    """Ask which printer, then print; False if the officer cancelled."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(view.reference)
    dialog = QPrintDialog(printer, parent)
    dialog.setWindowTitle(_t("Print acknowledgement slip"))
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    slip_document(view, reference).print_(printer)
    return True
