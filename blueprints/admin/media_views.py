"""Staff pages of the media library: the grid of images with the upload form, one
image's page (its Markdown, its description, delete). The work is the media area's
(``blueprints/media``); these views parse the request and render."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from blueprints.admin.blueprint import bp
from blueprints.admin.forms import CSRFOnlyForm
from blueprints.core.bodies import allow_larger_body
from blueprints.core.errors import render_error
from blueprints.core.security import staff_required
from blueprints.core.types import parse_id
from blueprints.media import library
from blueprints.media.errors import ImageInUse, MediaError
from blueprints.media.forms import AltTextForm, UploadForm
from blueprints.media.models import MediaImage
from extensions import db

IMAGES_PER_PAGE = 48
MAX_PAGE = 100_000

allow_larger_body(bp, "media_upload", "MEDIA_MAX_UPLOAD_BYTES")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A body over the limit is refused before the form is read: say why in words."""
    if request.endpoint == "admin.media_upload":
        return render_error(413, library.too_large_message())
    return render_error(413)


def _page_arg():
    return parse_id(request.args.get("page", ""), maximum=MAX_PAGE) or 1


def _render_library(form, status=200):
    page = library.images_page(_page_arg(), IMAGES_PER_PAGE)
    return (
        render_template(
            "admin/media.html",
            form=form,
            page=page,
            pictures={image.id: library.picture_of(image) for image in page.items},
        ),
        status,
    )


@bp.get("/media")
@staff_required
def media():
    return _render_library(UploadForm(formdata=None))


@bp.post("/media")
@staff_required
def media_upload():
    form = UploadForm()
    if not form.validate():
        return _render_library(form, status=400)
    upload = form.image.data
    try:
        # One byte over the limit is enough to know it is too large.
        data = upload.stream.read(library.max_upload_bytes() + 1)
        added = library.add_image(
            data,
            filename=upload.filename,
            alt_text=form.alt_text.data,
            uploaded_by=current_user._get_current_object(),
        )
    except MediaError as error:
        db.session.rollback()
        form.image.errors = [*form.image.errors, error.message]
        return _render_library(form, status=error.status)
    db.session.commit()
    if added.existing:
        flash("That image was already in the library: here it is.", "success")
    else:
        flash("The image is uploaded. Copy its Markdown below to put it in a post.", "success")
    return redirect(url_for("admin.media_image", image_id=added.image.id), code=303)


def _render_image(image, form=None, error=None, status=200):
    return (
        render_template(
            "admin/media_image.html",
            image=image,
            picture=library.picture_of(image),
            markdown=library.markdown_for(image),
            form=form or AltTextForm(formdata=None, data={"alt_text": image.alt_text}),
            delete_form=CSRFOnlyForm(formdata=None),
            error=error,
        ),
        status,
    )


@bp.route("/media/<int:image_id>", methods=["GET", "POST"])
@staff_required
def media_image(image_id):
    image = db.get_or_404(MediaImage, image_id)
    if request.method == "GET":
        return _render_image(image)
    form = AltTextForm()
    if not form.validate():
        return _render_image(image, form=form, status=400)
    library.set_alt_text(image, form.alt_text.data, actor=current_user._get_current_object())
    db.session.commit()
    flash("The description is saved.", "success")
    return redirect(url_for("admin.media_image", image_id=image.id), code=303)


@bp.post("/media/<int:image_id>/delete")
@staff_required
def media_delete(image_id):
    image = db.get_or_404(MediaImage, image_id)
    try:
        library.delete_image(image, actor=current_user._get_current_object())
    except ImageInUse as error:
        db.session.rollback()
        return _render_image(image, error=error.message, status=error.status)
    db.session.commit()
    flash("The image is deleted.", "success")
    return redirect(url_for("admin.media"), code=303)
