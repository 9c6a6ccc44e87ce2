"""The page editor asks before she leaves it with text not yet saved (and only then):
a link away with unsaved changes brings the browser's "Leave site?" question, saving
does not, and an unchanged page lets her go at once."""

from tests.browser.conftest import sign_in_staff


def _asked(page):
    """Record each "Leave site?" question, answering "Stay" (dismiss)."""
    questions = []

    def answer(dialog):
        questions.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", answer)
    return questions


def test_the_page_editor_asks_before_leaving_unsaved_text_but_not_when_saving(page, staff_account):
    sign_in_staff(page)
    page.goto("/admin/pages/about")
    questions = _asked(page)

    # Unchanged: the link away goes at once.
    page.get_by_role("link", name="All pages").click()
    page.wait_for_url("**/admin/pages")
    assert questions == []

    page.goto("/admin/pages/about")
    body = page.locator("textarea[name=body_md]")
    body.click()
    page.keyboard.press("End")
    page.keyboard.type(" A new sentence about walking.")
    page.get_by_role("link", name="All pages").click()
    page.wait_for_timeout(500)
    assert questions == ["beforeunload"]
    assert page.url.endswith("/admin/pages/about")  # she chose to stay: her text is there
    assert "A new sentence about walking." in body.input_value()

    page.get_by_role("button", name="Save the page").click()
    page.wait_for_load_state()
    page.wait_for_timeout(300)
    assert questions == ["beforeunload"]  # saving asks nothing
    assert "A new sentence about walking." in page.locator("textarea[name=body_md]").input_value()
