"""The audit log's details in plain words: "Refunded: $350.00", not
``refunded_cents: 35000``. Entries keep their JSON as stored; only the page changes."""

from datetime import datetime

from blueprints.core.layout import format_money
from blueprints.core.timezones import format_when

# Names read better than the keys they are stored under.
LABELS = {
    "kept_old_room": "Booked consultations that kept the old room",
    "url": "Link",
    "by_reply": "Approved by the reply",
    "answers": "Answers comment",
    "invited_by": "Invited by account",
    "image_id": "Picture",
    "alt_text": "Description",
    "email": "Email",
    "publish_at": "Publish at",
}
# Keys holding a count (said in words), not a record's number.
COUNTS = {"kept_old_room"}
NUMBER_WORDS = [
    "none",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
]


def _label(key):
    key = LABELS.get(key, key.removesuffix("_cents").removesuffix("_id"))
    return key.replace("_", " ").capitalize() if "_" in key or key.islower() else key


def _moment(text, zone):
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return format_when(moment, zone) if moment.tzinfo else text


def _value(key, value, currency, zone):
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_cents") and isinstance(value, int):
        return format_money(value, currency)
    if key in COUNTS and isinstance(value, int):
        return NUMBER_WORDS[value] if 0 <= value < len(NUMBER_WORDS) else f"{value:,}"
    if key.endswith("_at") and isinstance(value, str):
        return _moment(value, zone)
    if isinstance(value, int):
        return f"number {value}"
    if isinstance(value, list | tuple):
        return ", ".join(_value(key, item, currency, zone) for item in value) or "none"
    return str(value)


def detail_lines(detail, zone):
    """``detail`` (an entry's stored dict) as lines of plain words, times in ``zone``
    (Dr. Brown's). A ``currency`` goes with the amounts; ``changed`` lists each field
    as "from ... to ...". Unknown keys read as words from their names."""
    detail = detail if isinstance(detail, dict) else {}
    currency = detail.get("currency") or "usd"
    lines = []
    for key, value in detail.items():
        if key == "currency":
            continue
        if key == "changed" and isinstance(value, dict):
            for name, change in value.items():
                if isinstance(change, list) and len(change) == 2:
                    before, after = (_value(name, v, currency, zone) for v in change)
                    lines.append(f"{_label(name)} changed from {before} to {after}")
                else:
                    lines.append(f"{_label(name)} changed")
            continue
        lines.append(f"{_label(key)}: {_value(key, value, currency, zone)}")
    return lines
