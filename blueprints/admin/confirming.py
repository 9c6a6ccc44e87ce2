"""The "are you sure?" step before a staff action that moves money or cannot be undone
(a refund, cancelling a consultation, deleting a comment, disabling a staff account,
making an owner an assistant, resetting a second factor, cancelling an invitation).

It works without JavaScript: the first POST is checked as usual and answered with a
page (200, nothing changed) that says in plain words what will happen, with a button
that sends the same values again plus ``confirm=yes`` and a link back. Only that second
POST acts; a double click on it is caught by the action's own compare-and-set."""

from flask import render_template, request

CONFIRM_FIELD = "confirm"
# Sent again by the page itself (a fresh token) or added by it.
_NOT_CARRIED = {"csrf_token", CONFIRM_FIELD}


def confirmed():
    """Whether this POST comes from the confirmation page's button."""
    return request.form.get(CONFIRM_FIELD) == "yes"


def confirmation_page(question, button, back, detail=None, title="Please confirm"):
    """The page asking ``question`` (a sentence saying what will happen), whose
    ``button`` repeats this POST, to the same address, confirmed; ``back`` is where
    "No, go back" leads."""
    values = [
        (name, value) for name, value in request.form.items(multi=True) if name not in _NOT_CARRIED
    ]
    # The very address this POST came to, query included (the comment queue's filter).
    action = request.script_root + request.full_path.rstrip("?")
    return render_template(
        "admin/confirm.html",
        title=title,
        question=question,
        detail=detail,
        button=button,
        back=back,
        action=action,
        values=values,
    )
