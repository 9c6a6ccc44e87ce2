"""The page-cache tags of the practice's pages, built only here."""

# The sitemap lists every page with its date: any edit clears it.
PAGES_TAG = "pages"


def page_tag(slug):
    """The tag of one page: an edit to it clears it."""
    return f"page:{slug}"


def page_tags(slug):
    return [PAGES_TAG, page_tag(slug)]
