"""Customer-facing account pages: "My programs", reached by the signed link in the
order email (no password: the link is the key, and a full refund ends access)."""

from flask import Blueprint, abort, render_template

from blueprints.core.errors import render_error
from blueprints.shop import services as shop_services

bp = Blueprint("account", __name__, url_prefix="/account", cli_group="users")

INVALID_LINK = (
    "This link is not valid. Please use the newest link from your order email, "
    "or reply to that email and we will help."
)


def _programs_or_404(token):
    email = shop_services.email_from_programs_token(token)
    if email is None:
        abort(404)
    return email, shop_services.programs_for_email(email)


@bp.get("/programs/<token>")
def programs(token):
    email = shop_services.email_from_programs_token(token)
    if email is None:
        return render_error(404, INVALID_LINK)
    return render_template(
        "account/programs.html",
        token=token,
        email=email,
        programs=shop_services.programs_for_email(email),
    )


@bp.get("/programs/<token>/<slug>/<int:position>")
def lesson(token, slug, position):
    _email, programs = _programs_or_404(token)
    program = next((p for p in programs if p.slug == slug), None)
    if program is None:
        abort(404)
    lessons = program.lessons
    current = next((le for le in lessons if le.position == position), None)
    if current is None:
        abort(404)
    index = lessons.index(current)
    return render_template(
        "account/lesson.html",
        token=token,
        program=program,
        lesson=current,
        previous=lessons[index - 1] if index > 0 else None,
        next_lesson=lessons[index + 1] if index + 1 < len(lessons) else None,
    )
