"""The audit log covers every staff action (issue 20.7): each POST endpoint of the staff
area is either named with the audit actions it writes, and the test that proves each one,
or exempted with the reason. A new endpoint without that decision fails here. Then the
actions this table brought in: products and variants, a product's gallery, the site's
pages, the media library, a booking's meeting link, a customer's sign-in code, and the
post and booking changes no test proved yet, each written under its actor and record."""

import ast
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from blueprints.account.models import Customer
from blueprints.blog.models import PostRevision
from blueprints.booking.models import BookingStatus, CallType
from blueprints.core.models import AuditEntry
from blueprints.core.timezones import practitioner_zone
from blueprints.core.types import utcnow
from blueprints.media.library import add_image
from blueprints.media.models import MediaImage
from blueprints.pages.models import Page
from blueprints.shop.models import Product, ProductImage, Variant
from extensions import db
from tests.factories import (
    PRODUCT_FORM,
    VARIANT_FORM,
    make_booking,
    make_consultation_type,
    make_order,
)
from tests.media.conftest import image_bytes, upload
from tests.shop.conftest import make_vest

TESTS = Path(__file__).resolve().parents[1]
HERE = "tests/admin/test_audit_coverage.py"

# Each audited endpoint: (action, "file::test that performs it and checks the entry").
AUDITED = {
    "admin.accept_invitation_submit": [
        ("staff.invitation_accepted",
         "tests/admin/test_staff.py::test_an_invitation_is_emailed_and_sets_up_an_account_once"),
    ],
    "admin.availability_add_block": [
        ("availability.add", f"{HERE}::test_blocked_time_and_a_date_override_are_audited"),
    ],
    "admin.availability_add_hours": [
        ("availability.add",
         "tests/booking/test_staff_roles.py::test_availability_changes_are_audited_under_their_actor"),
    ],
    "admin.availability_add_override": [
        ("availability.add", f"{HERE}::test_blocked_time_and_a_date_override_are_audited"),
    ],
    "admin.availability_usual_room": [
        ("booking.usual_room",
         "tests/booking/test_video_and_booked_page.py"
         "::test_staff_set_the_usual_room_and_a_booking_without_its_own_link_uses_it_everywhere"),
    ],
    "admin.availability_delete": [
        ("availability.remove",
         "tests/booking/test_staff_roles.py::test_availability_changes_are_audited_under_their_actor"),
    ],
    "admin.booking_cancel": [
        ("booking.cancel",
         "tests/booking/test_staff_roles.py::test_the_owner_cancels_with_any_refund_and_marks_a_no_show_audited"),
    ],
    "admin.booking_completed": [
        ("booking.completed", f"{HERE}::test_marking_a_consultation_done_is_audited"),
    ],
    "admin.booking_meeting_link": [
        ("booking.meeting_link", f"{HERE}::test_a_meeting_link_change_is_audited_once"),
    ],
    "admin.booking_no_show": [
        ("booking.no_show",
         "tests/booking/test_staff_roles.py::test_the_owner_cancels_with_any_refund_and_marks_a_no_show_audited"),
    ],
    "admin.comment_reply": [
        ("comment.reply",
         "tests/admin/test_reply_notices.py::test_each_reply_emails_the_commenter_exactly_once"),
    ],
    "admin.comments_moderate": [
        (action, "tests/admin/test_reply_notices.py::test_moderation_is_audited_per_comment_under_its_actor")
        for action in ("comment.approve", "comment.spam", "comment.delete")
    ],
    "admin.customer_sign_in_link": [
        ("customer.sign_in_link", f"{HERE}::test_a_sign_in_code_sent_by_staff_is_audited"),
    ],
    "admin.media_delete": [
        ("media.delete", f"{HERE}::test_media_upload_description_and_delete_are_audited"),
    ],
    "admin.media_image": [
        ("media.describe", f"{HERE}::test_media_upload_description_and_delete_are_audited"),
    ],
    "admin.media_upload": [
        ("media.upload", f"{HERE}::test_media_upload_description_and_delete_are_audited"),
    ],
    "admin.order_checked": [
        ("order.clear_flag",
         "tests/shop/test_staff_roles.py::test_shipping_and_clearing_a_flag_are_audited_under_the_staff_member"),
    ],
    "admin.order_refund": [
        ("order.refund", "tests/shop/test_staff_roles.py::test_the_owner_refunds_above_the_assistant_limit"),
    ],
    "admin.order_ship": [
        ("order.ship",
         "tests/shop/test_staff_roles.py::test_shipping_and_clearing_a_flag_are_audited_under_the_staff_member"),
    ],
    "admin.order_tracking": [
        ("order.tracking",
         "tests/shop/test_admin.py::test_staff_correct_a_tracking_number_audited_and_without_emailing_her"),
    ],
    "admin.page_edit": [
        ("page.update", f"{HERE}::test_a_page_edit_is_audited"),
    ],
    "admin.post_edit": [
        (action, "tests/admin/test_reply_notices.py::test_post_changes_are_audited_under_their_actor")
        for action in ("post.edit", "post.publish")
    ],
    "admin.post_new": [
        ("post.create",
         "tests/admin/test_reply_notices.py::test_post_changes_are_audited_under_their_actor"),
        ("post.schedule", f"{HERE}::test_scheduling_and_restoring_a_post_are_audited"),
    ],
    "admin.post_publish": [
        ("post.publish",
         "tests/admin/test_reply_notices.py::test_post_changes_are_audited_under_their_actor"),
    ],
    "admin.post_revision_restore": [
        ("post.restore", f"{HERE}::test_scheduling_and_restoring_a_post_are_audited"),
    ],
    "admin.post_unpublish": [
        ("post.unpublish",
         "tests/admin/test_reply_notices.py::test_post_changes_are_audited_under_their_actor"),
    ],
    "admin.product_edit": [
        (action, f"{HERE}::test_product_and_variant_saves_are_audited_with_what_changed")
        for action in ("product.create", "product.update")
    ],
    "admin.product_image_add": [
        ("gallery.add", f"{HERE}::test_gallery_changes_are_audited_on_the_product"),
    ],
    "admin.product_image_move": [
        ("gallery.move", f"{HERE}::test_gallery_changes_are_audited_on_the_product"),
    ],
    "admin.product_image_remove": [
        ("gallery.remove", f"{HERE}::test_gallery_changes_are_audited_on_the_product"),
    ],
    "admin.shipping_rate_edit": [
        (action,
         "tests/shop/test_shipping_admin.py::test_staff_add_and_change_a_rate_and_the_vest_page_shows_it_at_once")
        for action in ("shipping_rate.create", "shipping_rate.update")
    ],
    "admin.staff_disable": [
        ("staff.disable",
         "tests/admin/test_staff.py::test_a_disabled_assistant_is_signed_out_at_once_and_cannot_sign_in"),
    ],
    "admin.staff_enable": [
        ("staff.enable", "tests/admin/test_staff_management.py::test_a_disabled_assistant_is_enabled_again_and_can_sign_in"),
    ],
    "admin.staff_invitation_resend": [
        ("staff.invitation_resend",
         "tests/admin/test_staff_management.py::test_resending_an_invitation_emails_a_new_link_and_the_old_one_stops_working"),
    ],
    "admin.staff_invitation_revoke": [
        ("staff.invitation_revoke",
         "tests/admin/test_staff_management.py::test_revoking_an_invitation_asks_first_then_its_link_stops_working_at_once"),
    ],
    "admin.staff_invite": [
        ("staff.invite",
         "tests/admin/test_staff.py::test_an_invitation_is_emailed_and_sets_up_an_account_once"),
    ],
    "admin.staff_reset_two_factor": [
        ("staff.reset_second_factor",
         "tests/admin/test_staff.py::test_resetting_a_second_factor_turns_it_off_and_signs_her_out"),
    ],
    "admin.staff_role": [
        ("staff.role", "tests/admin/test_staff_management.py::test_the_owner_makes_an_assistant_an_owner_and_back"),
    ],
    "admin.variant_save": [
        (action, f"{HERE}::test_product_and_variant_saves_are_audited_with_what_changed")
        for action in ("variant.create", "variant.update")
    ],
}  # fmt: skip

# Endpoints that change no record on anyone's behalf, and why.
EXEMPT = {
    "admin.login": "signing in: not an action on a record",
    "admin.login_code": "the second step of signing in",
    "admin.logout": "signing out (her own session only)",
    "admin.two_factor": "turning on her own second factor: her own sign-in, no shared record",
    "admin.two_factor_off": (
        "turning off her own second factor (needs a current code); an owner's reset of "
        "someone else's is audited as staff.reset_second_factor"
    ),
    "admin.post_autosave": "keeps her unsaved typing, visible to her alone; saving is audited",
    "admin.post_autosave_new": "keeps her unsaved typing for a new post; saving is audited",
    "admin.post_autosave_discard": "throws away her own unsaved typing; the post is unchanged",
    "admin.post_autosave_discard_new": "throws away her own unsaved typing for a new post",
    "admin.post_preview": "shows the text as readers would see it; nothing is saved",
    "admin.post_preview_new": "shows a new post as readers would see it; nothing is saved",
}


def _admin_post_endpoints(app):
    return {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and "POST" in rule.methods
    }


def test_every_staff_post_endpoint_is_audited_or_exempted_with_a_reason(app):
    endpoints = _admin_post_endpoints(app)
    assert not set(AUDITED) & set(EXEMPT)
    undecided = endpoints - set(AUDITED) - set(EXEMPT)
    assert not undecided, f"decide: audit entry or exemption with a reason: {sorted(undecided)}"
    gone = (set(AUDITED) | set(EXEMPT)) - endpoints
    assert not gone, f"no such endpoint any more: {sorted(gone)}"
    assert all(reason.strip() for reason in EXEMPT.values())


def _test_source(reference):
    path, _, name = reference.partition("::")
    source = (TESTS.parent / path).read_text()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node)
    return None


@pytest.mark.parametrize(
    ("action", "reference"),
    sorted({pair for pairs in AUDITED.values() for pair in pairs}),
)
def test_each_audited_action_is_checked_by_the_test_named_for_it(action, reference):
    source = _test_source(reference)
    assert source is not None, f"no test {reference}"
    assert f'"{action}"' in source, f"{reference} does not check {action}"


# --- the actions the table brought in ---------------------------------------------------------


def _entries(**where):
    db.session.expire_all()
    query = select(AuditEntry).order_by(AuditEntry.id)
    for name, value in where.items():
        query = query.where(getattr(AuditEntry, name) == value)
    return db.session.scalars(query).all()


def _picture(color=(40, 120, 90)):
    image = add_image(image_bytes("PNG", (600, 400), color), filename="p.png", alt_text="A vest")
    db.session.commit()
    return image.image


def test_product_and_variant_saves_are_audited_with_what_changed(staff_client, staff_user):
    assert staff_client.post("/admin/products/new", data=PRODUCT_FORM).status_code == 303
    product = db.session.scalars(select(Product)).one()
    changed = {**PRODUCT_FORM, "name": "Balance class online", "description_md": "x" * 5000}
    assert staff_client.post(f"/admin/products/{product.id}", data=changed).status_code == 303
    url = f"/admin/products/{product.id}/variants"
    assert staff_client.post(url, data=VARIANT_FORM).status_code == 303
    variant = db.session.scalars(select(Variant)).one()
    cheaper = {**VARIANT_FORM, "price": "15.00", "stock": "2"}
    assert staff_client.post(f"/admin/variants/{variant.id}", data=cheaper).status_code == 303

    entries = _entries()
    assert [(e.actor_id, e.action, e.record_type, e.record_id) for e in entries] == [
        (staff_user.id, "product.create", "product", product.id),
        (staff_user.id, "product.update", "product", product.id),
        (staff_user.id, "variant.create", "variant", variant.id),
        (staff_user.id, "variant.update", "variant", variant.id),
    ]
    assert entries[0].detail == {"name": "Balance class", "slug": "balance-class"}
    assert entries[2].detail == {
        "sku": "BAL-1", "product_id": product.id, "price_cents": 1900, "stock": 5,
    }  # fmt: skip
    # A long description is named as changed, not copied into the log.
    assert entries[1].detail["changed"]["name"] == ["Balance class", "Balance class online"]
    assert entries[1].detail["changed"]["description_md"] == "changed"
    assert entries[3].detail["sku"] == "BAL-1"
    assert entries[3].detail["changed"] == {"price_cents": [1900, 1500], "stock": [5, 2]}


def test_a_refused_product_save_writes_no_entry(staff_client):
    make_vest()
    taken = {**PRODUCT_FORM, "slug": "weighted-vest"}
    assert staff_client.post("/admin/products/new", data=taken).status_code == 400
    assert _entries() == []


def test_gallery_changes_are_audited_on_the_product(staff_client, staff_user):
    vest = make_vest()
    first, second = _picture((10, 10, 10)), _picture((200, 200, 200))
    for image in (first, second):
        staff_client.post(f"/admin/products/{vest.id}/images", data={"image": str(image.id)})
    items = db.session.scalars(select(ProductImage).order_by(ProductImage.position)).all()
    last = items[-1]
    staff_client.post(f"/admin/products/{vest.id}/images/{last.id}/move", data={"direction": "up"})
    # Already first: nothing moves, nothing is written.
    staff_client.post(f"/admin/products/{vest.id}/images/{last.id}/move", data={"direction": "up"})
    staff_client.post(f"/admin/products/{vest.id}/images/{last.id}/remove", data={})

    entries = _entries()
    assert [(e.actor_id, e.action, e.record_type, e.record_id) for e in entries] == [
        (staff_user.id, "gallery.add", "product", vest.id),
        (staff_user.id, "gallery.add", "product", vest.id),
        (staff_user.id, "gallery.move", "product", vest.id),
        (staff_user.id, "gallery.remove", "product", vest.id),
    ]
    assert [e.detail["image_id"] for e in entries] == [first.id, second.id, second.id, second.id]
    assert entries[2].detail["direction"] == "earlier"


def test_a_page_edit_is_audited(staff_client, staff_user):
    response = staff_client.post(
        "/admin/pages/about", data={"title": "About Dr. Brown", "body_md": "She teaches."}
    )
    assert response.status_code == 303
    page = db.session.scalars(select(Page).where(Page.slug == "about")).one()
    [entry] = _entries()
    assert (entry.actor_id, entry.action, entry.record_type, entry.record_id) == (
        staff_user.id, "page.update", "page", page.id,
    )  # fmt: skip
    assert entry.detail == {"slug": "about", "title": "About Dr. Brown"}


def test_media_upload_description_and_delete_are_audited(staff_client, staff_user):
    assert upload(staff_client, image_bytes("JPEG")).status_code == 303
    image = db.session.scalars(select(MediaImage)).one()
    # The same file again is the image already stored: nothing new to record.
    assert upload(staff_client, image_bytes("JPEG")).status_code == 303
    staff_client.post(f"/admin/media/{image.id}", data={"alt_text": "Dr. Brown by the sea"})
    assert staff_client.post(f"/admin/media/{image.id}/delete", data={}).status_code == 303

    entries = _entries()
    assert [(e.actor_id, e.action, e.record_type, e.record_id) for e in entries] == [
        (staff_user.id, "media.upload", "media_image", image.id),
        (staff_user.id, "media.describe", "media_image", image.id),
        (staff_user.id, "media.delete", "media_image", image.id),
    ]
    assert entries[0].detail == {"filename": "photo.jpg"}
    assert entries[1].detail == {"alt_text": "Dr. Brown by the sea"}
    assert entries[2].detail == {"filename": "photo.jpg"}
    page = staff_client.get("/admin/audit?record_type=media_image").get_data(as_text=True)
    assert all(action in page for action in ("media.upload", "media.describe", "media.delete"))
    assert "Filename: photo.jpg" in page


def test_a_meeting_link_change_is_audited_once(staff_client, staff_user):
    booking = make_booking(make_consultation_type(), call_type=CallType.VIDEO)
    room = "https://zoom.us/j/123456789"
    for _ in range(2):  # the second save changes nothing, and records nothing
        staff_client.post(
            f"/admin/bookings/{booking.id}/meeting-link",
            data={f"meeting-{booking.id}-meeting_url": room, "view": "day"},
        )
    [entry] = _entries()
    assert (entry.actor_id, entry.action, entry.record_type, entry.record_id) == (
        staff_user.id, "booking.meeting_link", "booking", booking.id,
    )  # fmt: skip
    assert entry.detail == {"url": room}


def test_marking_a_consultation_done_is_audited(staff_client, staff_user):
    started = utcnow().replace(second=0, microsecond=0) - timedelta(hours=2)
    booking = make_booking(make_consultation_type(), starts_at=started)
    staff_client.post(f"/admin/bookings/{booking.id}/completed", data={})
    db.session.expire_all()
    assert booking.status == BookingStatus.COMPLETED
    assert [(e.actor_id, e.action, e.record_id) for e in _entries()] == [
        (staff_user.id, "booking.completed", booking.id)
    ]


def test_blocked_time_and_a_date_override_are_audited(staff_client, staff_user):
    day = (utcnow().astimezone(practitioner_zone()) + timedelta(days=10)).date().isoformat()
    staff_client.post(
        "/admin/availability/overrides",
        data={"override-on_date": day, "override-day_off": "y", "override-note": "Away"},
    )
    staff_client.post(
        "/admin/availability/blocks",
        data={
            "block-on_date": day,
            "block-start_time": "10:00",
            "block-end_date": day,
            "block-end_time": "11:00",
            "block-reason": "Dentist",
        },
    )
    entries = _entries()
    assert [(e.actor_id, e.action, e.record_type) for e in entries] == [
        (staff_user.id, "availability.add", "date_override"),
        (staff_user.id, "availability.add", "blocked_time"),
    ]


def test_a_sign_in_code_sent_by_staff_is_audited(staff_client, staff_user, mailbox):
    make_order(make_vest(), email="margaret.hill@example.com", events=("created", "paid"))
    staff_client.post("/admin/customers/sign-in-link", data={"email": "margaret.hill@example.com"})
    mailbox.wait_for(1)
    [entry] = _entries()
    # The entry names her account (made now: she had only an order), never her address
    # or the code: the log can never be changed, and her address goes if she deletes
    # her account. The audit page links to her customer page, which says who she is.
    account = db.session.scalar(
        select(Customer).where(Customer.email == "margaret.hill@example.com")
    )
    assert (entry.actor_id, entry.action, entry.record_type, entry.record_id) == (
        staff_user.id, "customer.sign_in_link", "customer", account.id,
    )  # fmt: skip
    assert "margaret.hill" not in json.dumps(entry.detail)
    page = staff_client.get("/admin/audit").get_data(as_text=True)
    assert f'href="/admin/customers/{account.id}"' in page
    assert "margaret.hill@example.com" in staff_client.get(f"/admin/customers/{account.id}").text

    staff_client.post("/admin/customers/sign-in-link", data={"email": "margaret.hill@example.com"})
    mailbox.wait_for(2)
    assert _entries()[-1].record_id == account.id


def test_a_customer_asking_for_her_own_code_writes_no_entry(client, staff_user, mailbox):
    assert client.post("/account/sign-in", data={"email": "ann@example.com"}).status_code == 303
    mailbox.wait_for(1)
    assert _entries() == []


def test_scheduling_and_restoring_a_post_are_audited(staff_client, staff_user, mailbox):
    when = (utcnow() + timedelta(hours=2)).replace(second=0, microsecond=0)
    created = staff_client.post(
        "/admin/posts/new",
        data={
            "title": "Vitamin K2",
            "body": "First text.",
            "action": "schedule",
            "publish_at": when.astimezone(practitioner_zone()).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert created.status_code == 303
    post_id = int(created.headers["Location"].split("/")[-2])
    staff_client.post(
        f"/admin/posts/{post_id}/edit", data={"title": "Vitamin K2", "body": "Second text."}
    )
    first = db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post_id).order_by(PostRevision.id)
    ).first()
    restored = staff_client.post(f"/admin/posts/{post_id}/revisions/{first.id}/restore", data={})
    assert restored.status_code == 303
    assert [(e.actor_id, e.action, e.record_id) for e in _entries()] == [
        (staff_user.id, "post.create", post_id),
        (staff_user.id, "post.schedule", post_id),
        (staff_user.id, "post.edit", post_id),
        (staff_user.id, "post.restore", post_id),
    ]


def test_the_longest_text_in_any_script_is_saved_and_audited_never_a_500(staff_client, staff_user):
    """An alt text of 500 characters in Chinese or with accents is a valid form: it is
    saved, and its audit entry keeps the start of it (JSON's ASCII escapes once made
    each such character count six times against the entry's size)."""
    assert upload(staff_client, image_bytes("JPEG")).status_code == 303
    image = db.session.scalars(select(MediaImage)).one()
    for text in ("骨" * 500, "é" * 500, "🦴" * 500):
        response = staff_client.post(f"/admin/media/{image.id}", data={"alt_text": text})
        assert response.status_code == 303, text[:3]
        db.session.expire_all()
        assert db.session.get(MediaImage, image.id).alt_text == text
        entry = _entries(action="media.describe")[-1]
        assert text.startswith(entry.detail["alt_text"].rstrip("…"))
        assert len(entry.detail["alt_text"]) <= 200
