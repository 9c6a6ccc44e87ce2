"""Staff pages for the practice's pages (About, Contact, Privacy, Terms, Shipping and
returns): the list, and one page's Markdown editor. The work is the pages area's
(``blueprints/pages/content.py``); these views parse the request and render."""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from blueprints.admin.blueprint import bp
from blueprints.admin.media_picker import picker_images
from blueprints.core.security import staff_required
from blueprints.pages.content import all_pages, page_for, save_page
from blueprints.pages.forms import PageForm
from blueprints.pages.models import SLUGS
from extensions import db


def public_url(slug):
    return url_for(f"pages.{slug.replace('-', '_')}")


@bp.get("/pages")
@staff_required
def pages():
    return render_template("admin/pages.html", pages=all_pages(), public_url=public_url)


@bp.route("/pages/<slug>", methods=["GET", "POST"])
@staff_required
def page_edit(slug):
    if slug not in SLUGS:
        abort(404)
    page = page_for(slug)
    form = PageForm(obj=page)
    if form.validate_on_submit():
        save_page(
            slug,
            form.title.data.strip(),
            form.body_md.data,
            actor=current_user._get_current_object(),
        )
        db.session.commit()
        flash("The page is saved. Readers see the new text now.", "success")
        return redirect(url_for("admin.page_edit", slug=slug), code=303)
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/page_form.html",
        page=page,
        form=form,
        public_url=public_url(slug),
        picker=picker_images(),
    ), status
