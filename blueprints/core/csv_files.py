"""The CSV files staff download (orders, subscribers, consultation payments): cells a
spreadsheet shows as text and never runs as formulas, amounts as plain numbers, and
the response that hands a file over."""

import csv
import io
from decimal import Decimal

from flask import Response

from blueprints.core.timezones import practitioner_zone, to_zone

# How every CSV file writes a moment: Dr. Brown's time, to the minute, and its header
# says so (``local_time_header``).
LOCAL_TIME_FORMAT = "%Y-%m-%d %H:%M"

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV
# injection); a leading apostrophe makes it text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as CSV text a spreadsheet shows as text, never runs as a formula.
    Amounts (:func:`amount`) and counts stay numbers: we wrote them, and a refund's
    minus sign must not turn one into text."""
    if isinstance(value, (int, Decimal)):
        return value
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def amount(cents):
    """Integer cents as the number a spreadsheet reads: 3500 -> 35.00, -1250 -> -12.50."""
    return Decimal(cents).scaleb(-2)


def local_time(moment, zone=None):
    """A stored (UTC) moment as ``YYYY-MM-DD HH:MM`` in Dr. Brown's zone; empty for
    None."""
    if moment is None:
        return ""
    return to_zone(moment, zone or practitioner_zone()).strftime(LOCAL_TIME_FORMAT)


def local_time_header(name):
    """A time column's header, saying whose time it is: ``Placed (Dr. Brown's time)``."""
    return f"{name} (Dr. Brown's time)"


def one_line(text):
    """A text of several lines (an address as printed on a label) in one cell, its lines
    joined by commas."""
    return ", ".join(line.strip() for line in (text or "").splitlines() if line.strip())


def csv_text(header, rows):
    """A header row and ``rows`` as CSV text, every cell through :func:`safe_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return out.getvalue()


def csv_download(body, filename):
    """``body`` (text, or chunks of it) as the file ``filename``, never stored."""
    return Response(
        body,
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
