"""Customer-facing account pages: programs, with no password.

An order's link (success page, order email) opens the programs of that order; the link
to everything an address bought ("My programs") is only ever emailed to that address,
from a form that answers the same whatever the address. A full refund ends an order's
access at once.
"""

from flask import abort, redirect, render_template, url_for

from blueprints.account.customers import current_customer
from blueprints.core.errors import render_error
from blueprints.core.headers import no_store
from blueprints.my_account import progress
from blueprints.my_account.blueprint import bp
from blueprints.my_account.forms import LessonProgressForm
from blueprints.shop.forms import ProgramsLinkForm
from blueprints.shop.links import email_from_programs_token, order_from_programs_token
from blueprints.shop.programs import (
    order_access_ended,
    programs_for_email,
    programs_for_order,
    request_programs_link,
)
from extensions import db, limiter

INVALID_LINK = (
    "This link is not valid, or it has expired. Ask for a new link to your programs "
    "below, or reply to your order email and we will help."
)
INVALID_ORDER_LINK = (
    "This link is not valid. Please use the link from your order email, "
    "or reply to that email and we will help."
)


def _lesson_or_404(programs, slug, position, home_endpoint, lesson_endpoint, token):
    program = next((p for p in programs if p.slug == slug), None)
    if program is None:
        abort(404)
    lessons = program.lessons
    current = next((le for le in lessons if le.position == position), None)
    if current is None:
        abort(404)
    index = lessons.index(current)
    # A customer signed in whose program this is can mark the lesson done here too.
    customer = current_customer()
    done = progress.lesson_done_state(customer, program, current)
    # Anyone else is told how to keep track: signed out, a sign-in that comes back to
    # this lesson in My account; signed in with another address, which address to use.
    mine = url_for("my_account.my_lesson", slug=slug, position=position)
    return {
        "program": program,
        "lesson": current,
        "previous": lessons[index - 1] if index > 0 else None,
        "next_lesson": lessons[index + 1] if index + 1 < len(lessons) else None,
        "home_url": url_for(home_endpoint, token=token),
        "home_label": "My programs",
        "lesson_link": lambda p: url_for(lesson_endpoint, token=token, slug=slug, position=p),
        "lesson_done": done,
        "progress_form": LessonProgressForm(formdata=None) if done is not None else None,
        "sign_in_url": url_for("account.sign_in", next=mine) if customer is None else None,
        "signed_in_as": customer.email if customer is not None and done is None else None,
    }


@bp.get("/programs")
@no_store
def request_programs():
    """The form to ask for the link to every program of an address."""
    return render_template("account/request_programs.html", form=ProgramsLinkForm(formdata=None))


@bp.post("/programs")
@limiter.limit("10/hour")
@no_store
def send_programs_link():
    """The link goes to that mailbox only; the answer is the same for any address."""
    form = ProgramsLinkForm()
    if not form.validate():
        return render_template("account/request_programs.html", form=form), 400
    request_programs_link(form.email.data)
    db.session.commit()
    return redirect(url_for("my_account.programs_link_sent"), 303)


@bp.get("/programs/sent")
@no_store
def programs_link_sent():
    return render_template("account/programs_link_sent.html")


@bp.get("/programs/<token>")
@no_store
def programs(token):
    email = email_from_programs_token(token)
    if email is None:
        form = ProgramsLinkForm(formdata=None)
        return render_template(
            "account/request_programs.html", form=form, problem=INVALID_LINK
        ), 404
    return render_template(
        "account/programs.html",
        token=token,
        email=email,
        programs=programs_for_email(email),
    )


@bp.get("/programs/<token>/<slug>/<int:position>")
@no_store
def lesson(token, slug, position):
    email = email_from_programs_token(token)
    if email is None:
        abort(404)
    return render_template(
        "account/lesson.html",
        **_lesson_or_404(
            programs_for_email(email),
            slug,
            position,
            "my_account.programs",
            "my_account.lesson",
            token,
        ),
    )


@bp.get("/order/<token>")
@no_store
def order_programs(token):
    order = order_from_programs_token(token)
    if order is None:
        return render_error(404, INVALID_ORDER_LINK)
    programs = programs_for_order(order)
    return render_template(
        "account/order_programs.html",
        token=token,
        order=order,
        programs=programs,
        ended=not programs and order_access_ended(order),
    )


@bp.get("/order/<token>/<slug>/<int:position>")
@no_store
def order_lesson(token, slug, position):
    order = order_from_programs_token(token)
    if order is None:
        abort(404)
    return render_template(
        "account/lesson.html",
        **_lesson_or_404(
            programs_for_order(order),
            slug,
            position,
            "my_account.order_programs",
            "my_account.order_lesson",
            token,
        ),
    )
