"""The post editor's references and medical review: rows saved as records in order, bad
DOIs, PMIDs and years refused with everything typed kept, rows added, moved and removed
without script, and a warning for a citation mark with no reference."""

import pytest
from sqlalchemy import func, select

from blueprints.blog.models import Post, PostStatus, Reference
from blueprints.blog.references import ReferenceData
from extensions import db

LEE = {
    "authors": "Lee D-Y, et al",
    "title": "Relationship between bone mineral density and spinal muscle area",
    "journal": "J Bone Metab",
    "year": "2015",
    "volume": "22",
    "issue": "4",
    "pages": "197-204",
    "doi": "https://doi.org/10.11005/jbm.2015.22.4.197",
    "pmid": "PMID: 26713311",
    "url": "",
}
SINAKI = {
    "authors": "Sinaki M, et al",
    "title": "Stronger back muscles reduce the incidence of vertebral fractures",
    "journal": "Bone",
    "year": "2002",
    "pmid": "12052450",
}


def _form(*rows, **overrides):
    data = {
        "title": "Spinal bone density and exercise",
        "slug": "",
        "summary": "",
        "body": "Muscle goes with bone.[^1] Back work helps.[^2]",
        "tags": "",
        "reviewer": "",
        "reviewed_on": "",
        "action": "save",
    }
    for index, row in enumerate(rows):
        data.update({f"references-{index}-{name}": value for name, value in row.items()})
    data.update(overrides)
    return data


def _post():
    db.session.expire_all()
    return db.session.scalars(select(Post)).one()


def _references():
    return _post().references


def test_rows_are_saved_as_records_in_order_with_the_ids_cleaned(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(LEE, {}, SINAKI))
    assert response.status_code == 303
    lee, sinaki = _references()
    assert (lee.position, lee.title, lee.year, lee.issue) == (1, LEE["title"], 2015, "4")
    assert (lee.doi, lee.pmid) == ("10.11005/jbm.2015.22.4.197", "26713311")
    # The empty row between them is no reference: Sinaki is number 2, as the text cites.
    assert (sinaki.position, sinaki.pmid, sinaki.doi, sinaki.volume) == (2, "12052450", None, "")
    assert 'href="#ref-2"' in _post().body_html


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("doi", "10.12/short", "A DOI starts with 10. and a slash"),
        ("doi", "jbm.2015.22.4.197", "A DOI starts with 10. and a slash"),
        ("pmid", "2671331a", "A PubMed ID is digits only"),
        ("year", "1066", "Give the year as four digits"),
        ("year", "2999", "Give the year as four digits"),
        ("url", "not a web address", "Give a full web address"),
    ],
)
def test_a_bad_part_is_refused_and_everything_typed_is_kept(staff_client, name, bad, message):
    row = {**LEE, name: bad}
    response = staff_client.post("/admin/posts/new", data=_form(SINAKI, row))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"Reference 2: {message}" in html  # the summary says which row
    assert f'href="#references-1-{name}"' in html
    assert f'value="{bad}"' in html
    assert f'value="{SINAKI["authors"]}"' in html and LEE["title"] in html
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_a_filled_row_needs_a_title(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form({"journal": "Bone"}))
    assert response.status_code == 400
    assert "Reference 1: Give the reference a title." in response.get_data(as_text=True)


def test_a_reviewer_needs_a_review_date_and_both_are_saved(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(reviewer="Jane Smith, MD"))
    assert response.status_code == 400
    assert "Give the date of the review too." in response.get_data(as_text=True)
    assert 'value="Jane Smith, MD"' in response.get_data(as_text=True)
    staff_client.post(
        "/admin/posts/new", data=_form(reviewer="Jane Smith, MD", reviewed_on="2026-03-08")
    )
    post = _post()
    assert post.reviewer_name == "Jane Smith, MD" and post.reviewed_at is not None
    html = staff_client.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert 'value="Jane Smith, MD"' in html and 'value="2026-03-08"' in html


def test_the_editor_shows_stored_rows_and_a_spare_one(staff_client, make_post):
    post = make_post(references=[ReferenceData(**{**SINAKI, "year": 2002})])
    html = staff_client.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert 'name="references-0-pmid"' in html and 'value="12052450"' in html
    assert 'name="references-1-title"' in html and 'name="references-2-title"' not in html
    assert "Add another reference" in html


def test_move_up_swaps_rows_on_the_page_and_saves_nothing(staff_client, make_post):
    post = make_post(title="Keep", slug="keep", references=["First", "Second"])
    url = f"/admin/posts/{post.id}/edit"
    data = _form({"title": "First"}, {"title": "Second, edited"}, title="Keep", slug="keep")
    data["reference_move"] = "1:up"
    response = staff_client.post(url, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.index("Second, edited</textarea>") < html.index("First</textarea>")
    assert "changed on this page only" in html
    assert [r.title for r in _references()] == ["First", "Second"]  # not saved yet
    # Saving what the page now shows stores the new order.
    staff_client.post(url, data=_form({"title": "Second, edited"}, {"title": "First"}, slug="keep"))
    assert [(r.position, r.title) for r in _references()] == [(1, "Second, edited"), (2, "First")]


def test_remove_and_add_rows_without_script(staff_client, make_post):
    post = make_post(title="Keep", slug="keep", references=["First", "Second", "Third"])
    url = f"/admin/posts/{post.id}/edit"
    rows = ({"title": "First"}, {"title": "Second"}, {"title": "Third"})
    html = staff_client.post(url, data={**_form(*rows), "reference_move": "1:remove"}).get_data(
        as_text=True
    )
    assert "Second</textarea>" not in html
    assert 'name="references-1-title"' in html and "Third</textarea>" in html
    # The page sends its empty spare row too: "Add another" makes it two.
    with_spare = _form(*rows, {"title": "", "doi": ""})
    html = staff_client.post(url, data={**with_spare, "reference_add": "1"}).get_data(as_text=True)
    assert 'name="references-4-title"' in html and 'name="references-5-title"' not in html
    staff_client.post(url, data=_form({"title": "First"}, {}, {"title": "Third"}, slug="keep"))
    assert [(r.position, r.title) for r in _references()] == [(1, "First"), (2, "Third")]
    assert db.session.scalar(select(func.count()).select_from(Reference)) == 2


def test_an_odd_row_button_changes_nothing(staff_client):
    for value in ("9:up", "x:down", "0:explode", ""):
        response = staff_client.post(
            "/admin/posts/new", data={**_form({"title": "Only"}), "reference_move": value}
        )
        assert response.status_code == 200
        assert "Only</textarea>" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_a_citation_without_its_reference_is_saved_with_a_warning(staff_client):
    response = staff_client.post("/admin/posts/new", data=_form(LEE), follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The text cites [^2], but the post has no reference with that number." in html
    post = _post()
    assert '<sup class="citation-missing">[2]</sup>' in post.body_html
    assert 'href="#ref-1"' in post.body_html


def test_changing_references_clears_the_cached_post_page(app, client, staff_user, make_post):
    from blueprints.blog.editing import save_post

    app.config.update(PAGE_CACHE=True)
    post = make_post(
        title="Cached",
        slug="cached",
        body="Bone.[^1]",
        status=PostStatus.PUBLISHED,
        references=["Old source"],
    )
    assert "Old source" in client.get("/blog/cached").get_data(as_text=True)
    save_post(
        post,
        title="Cached",
        slug="cached",
        summary="",
        body_md="Bone.[^1]",
        tag_names=[],
        references=[ReferenceData(title="New source", pmid="12052450")],
        actor=staff_user,
    )
    db.session.commit()
    html = client.get("/blog/cached").get_data(as_text=True)
    assert "New source" in html and "Old source" not in html
    assert "https://pubmed.ncbi.nlm.nih.gov/12052450/" in html
