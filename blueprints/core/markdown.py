"""Markdown to safe HTML: full CommonMark for staff-written posts, a small subset for
readers' comments. Both pass through nh3, so nothing unsafe survives either way."""

import nh3
from markdown_it import MarkdownIt

_POST_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "cite",
    "code",
    "em",
    "figcaption",
    "figure",
    "h2",
    "h3",
    "h4",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
_POST_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height", "loading"},
    "ol": {"start"},
    "th": {"scope"},
}
_COMMENT_TAGS = {"a", "blockquote", "br", "code", "em", "li", "ol", "p", "strong", "ul"}
_URL_SCHEMES = {"http", "https", "mailto"}

# Posts: CommonMark with tables; raw HTML in the source is not passed through.
_post_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Comments: paragraphs, emphasis, lists, quotes, code and links; no headings or images.
_comment_md = MarkdownIt("commonmark", {"html": False}).disable(
    ["heading", "lheading", "image", "table", "hr", "html_block", "html_inline"], ignoreInvalid=True
)


def render_post(source):
    """Staff Markdown to sanitised HTML (stored with the post, never per request)."""
    html = _post_md.render(source or "")
    return nh3.clean(
        html,
        tags=_POST_TAGS,
        attributes=_POST_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener",
    )


def render_comment(source):
    """A reader's Markdown subset to sanitised HTML; links get rel="nofollow ugc noopener"."""
    html = _comment_md.render(source or "")
    return nh3.clean(
        html,
        tags=_COMMENT_TAGS,
        attributes={"a": {"href"}},
        url_schemes=_URL_SCHEMES,
        link_rel="nofollow ugc noopener",
    )


def count_links(source):
    """How many links a reader's Markdown produces (for the moderation rule)."""
    return render_comment(source).count("<a ")
