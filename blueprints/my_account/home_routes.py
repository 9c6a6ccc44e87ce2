"""A signed-in customer's own pages (``/account/``): her orders and their receipts, her
programs with what she has done, her consultations, her newsletter and her comments.

Every view takes who she is from her session (``customer_required``) and asks
``overview``/``progress`` for rows of her verified address only: an order number or a
program's address of someone else answers 404, exactly like one that does not exist.
"""

from flask import abort, flash, redirect, render_template, url_for

from blueprints.account.customers import current_customer, customer_required, rename_customer
from blueprints.booking.policy import FREE_CHANGE_HOURS
from blueprints.core.errors import UserError
from blueprints.core.headers import no_store
from blueprints.core.security import safe_next
from blueprints.core.types import MAX_ID
from blueprints.my_account import overview, progress
from blueprints.my_account.blueprint import bp
from blueprints.my_account.forms import LessonProgressForm, NameForm, NewsletterChoiceForm
from blueprints.shop.links import tracking_url
from extensions import db, limiter


@bp.get("/")
@no_store
@customer_required
def home():
    return _home_page()


def _home_page(name_form=None, status=200):
    customer = current_customer()
    if name_form is None:
        name_form = NameForm(formdata=None, data={"name": customer.name})
    return render_template(
        "account/home.html",
        customer=customer,
        overview=overview.account_overview(customer),
        name_form=name_form,
        newsletter_form=NewsletterChoiceForm(formdata=None),
        tracking_url=tracking_url,
        free_change_hours=FREE_CHANGE_HOURS,
    ), status


@bp.post("/name")
@limiter.limit("10/minute")
@no_store
@customer_required
def name():
    """Her name: the comment form fills it in, staff find her by it."""
    form = NameForm()
    if not form.validate():
        return _home_page(form, 400)
    rename_customer(current_customer(), form.name.data)
    db.session.commit()
    flash("Your name is saved.", "success")
    return redirect(url_for("my_account.home", _anchor="your-name"), 303)


@bp.get("/orders/<int:order_id>")
@no_store
@customer_required
def order(order_id):
    """One of her orders, as a receipt she can print."""
    found = overview.customer_order(current_customer(), order_id) if order_id <= MAX_ID else None
    if found is None:
        abort(404)
    return render_template("account/order.html", order=found, tracking_url=tracking_url)


@bp.get("/my-programs/<slug>")
@no_store
@customer_required
def my_program(slug):
    found = progress.program_of(current_customer(), slug)
    if found is None:
        abort(404)
    return render_template("account/my_program.html", progress=found)


@bp.get("/my-programs/<slug>/<int:position>")
@no_store
@customer_required
def my_lesson(slug, position):
    found = progress.lesson_of(current_customer(), slug, position)
    if found is None:
        abort(404)
    program_progress, lesson = found
    lessons = program_progress.lessons
    index = lessons.index(lesson)
    return render_template(
        "account/lesson.html",
        program=program_progress.program,
        lesson=lesson,
        previous=lessons[index - 1] if index > 0 else None,
        next_lesson=lessons[index + 1] if index + 1 < len(lessons) else None,
        home_url=url_for("my_account.my_program", slug=slug),
        home_label=program_progress.program.name,
        lesson_link=lambda p: url_for("my_account.my_lesson", slug=slug, position=p),
        lesson_done=program_progress.is_done(lesson),
        progress_form=LessonProgressForm(formdata=None),
    )


@bp.post("/my-programs/<slug>/<int:position>/done")
@limiter.limit("60/minute")
@no_store
@customer_required
def lesson_progress(slug, position):
    """Mark a lesson of hers done (or not done again), then back to the lesson page she
    came from (hers in the account, or the one her order's link opens)."""
    customer = current_customer()
    found = progress.lesson_of(customer, slug, position)
    if found is None:
        abort(404)
    form = LessonProgressForm()
    back = safe_next(url_for("my_account.my_lesson", slug=slug, position=position))
    if not form.validate():
        flash("That did not work. Please try the button again.", "error")
        return redirect(back, 303)
    lesson = found[1]
    if form.done.data == "yes":
        progress.mark_lesson_done(customer, lesson)
        message = f"Well done: “{lesson.title}” is marked done."
    else:
        progress.mark_lesson_not_done(customer, lesson)
        message = f"“{lesson.title}” is no longer marked done."
    db.session.commit()
    flash(message, "success")
    return redirect(back, 303)


@bp.post("/newsletter")
@limiter.limit("10/minute")
@no_store
@customer_required
def newsletter():
    form = NewsletterChoiceForm()
    target = url_for("my_account.home", _anchor="newsletter")
    if not form.validate():
        flash("Please choose one of the newsletter buttons.", "error")
        return redirect(target, 303)
    try:
        message = overview.change_newsletter(current_customer(), form.action.data)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target, 303)
    db.session.commit()
    flash(message, "success")
    return redirect(target, 303)
