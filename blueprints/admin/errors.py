"""A refusal inside the staff area (an assistant opening an owner's page, or a refund
over her limit) is shown in the staff layout, with a way back to the dashboard, not
in the public site's layout with its customer links. Others (a signed-in customer
who is not staff) keep the public error page."""

from flask_login import current_user
from werkzeug.exceptions import Forbidden

from blueprints.account.roles import NotAllowed
from blueprints.admin.blueprint import bp
from blueprints.core.errors import render_error
from extensions import db

ADMIN_ERROR_TEMPLATE = "admin/error.html"


def _template():
    staff = current_user.is_authenticated and getattr(current_user, "is_staff", False)
    return ADMIN_ERROR_TEMPLATE if staff else "core/error.html"


@bp.errorhandler(NotAllowed)
def _not_allowed(error):
    db.session.rollback()
    return render_error(error.status, error.message, template=_template())


@bp.errorhandler(Forbidden)
def _forbidden(error):
    db.session.rollback()
    return render_error(403, template=_template())
