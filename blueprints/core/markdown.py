"""Markdown to safe HTML: full CommonMark for staff-written posts, a small subset for
readers' comments. Both pass through nh3, so nothing unsafe survives either way.

Posts may cite their numbered references with ``[^1]`` (the footnote mark of GitHub and
Pandoc: unlike ``[1]`` it is never a Markdown link). A mark becomes a superscript link
to ``#ref-1``, the first mark of each number carries ``id="cite-1"`` for the reference's
link back, and a mark whose reference does not exist is plain text in superscript.
"""

import re

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
    "a": {"href", "title", "aria-label"},
    "sup": {"id", "class"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "th": {"scope"},
}
# Every picture in a post loads when the reader scrolls near it.
_POST_IMAGE_LOADING = {"img": {"loading": "lazy", "decoding": "async"}}
_COMMENT_TAGS = {"a", "blockquote", "br", "code", "em", "li", "ol", "p", "strong", "ul"}
_URL_SCHEMES = {"http", "https", "mailto"}

# Posts: CommonMark with tables; raw HTML in the source is not passed through.
_post_md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
# Comments: paragraphs, emphasis, lists, quotes, code and links; no headings or images.
_comment_md = MarkdownIt("commonmark", {"html": False}).disable(
    ["heading", "lheading", "image", "table", "hr", "html_block", "html_inline"], ignoreInvalid=True
)


# --- citation marks ---------------------------------------------------------------------

_MARK = re.compile(r"\[\^([1-9][0-9]{0,2})\]")
# The only values the marks' attributes may take; nothing else a post could hold has them.
_MARK_VALUES = {
    ("sup", "id"): re.compile(r"cite-[0-9]{1,3}"),
    ("sup", "class"): re.compile(r"citation|citation-missing"),
    ("a", "aria-label"): re.compile(r"Reference [0-9]{1,3}"),
}


def _citation_mark(state, silent):
    """``[^N]``: a citation of reference N (not inside a link's text)."""
    if state.src[state.pos] != "[" or state.linkLevel > 0:
        return False
    match = _MARK.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        token = state.push("citation_mark", "", 0)
        token.meta = {"number": int(match[1])}
    state.pos = match.end()
    return True


def _render_citation_mark(self, tokens, idx, options, env):
    number = tokens[idx].meta["number"]
    known = env.get("reference_count")
    if known is not None and number > known:
        return f'<sup class="citation-missing">[{number}]</sup>'
    cited = env.setdefault("cited", set())
    anchor = "" if number in cited else f' id="cite-{number}"'
    cited.add(number)
    return (
        f'<sup class="citation"{anchor}>'
        f'<a href="#ref-{number}" aria-label="Reference {number}">[{number}]</a></sup>'
    )


_post_md.inline.ruler.before("link", "citation_mark", _citation_mark)
_post_md.add_render_rule("citation_mark", _render_citation_mark)


def cited_numbers(source):
    """The reference numbers the post's Markdown cites, in order of first mention."""
    numbers = []
    for block in _post_md.parse(source or ""):
        for token in block.children or ():
            if token.type == "citation_mark" and token.meta["number"] not in numbers:
                numbers.append(token.meta["number"])
    return numbers


def _post_attribute(tag, attribute, value):
    """An image's address is a path on this site (the media library's, say): the
    Content-Security-Policy would block any other, so it is dropped here, and the
    reader sees the description instead of a broken picture. A citation mark's
    attributes keep only the values the marks are written with."""
    if tag == "img" and attribute == "src":
        on_site = value.startswith("/") and not value.startswith("//") and "\\" not in value
        return value if on_site else None
    pattern = _MARK_VALUES.get((tag, attribute))
    if pattern is not None:
        return value if pattern.fullmatch(value) else None
    return value


def render_post(source, references=None):
    """Staff Markdown to sanitised HTML (stored with the post, never per request).
    ``references``: how many references the post has, so that a citation mark of a
    number beyond them is plain text; None (not known, a page's text) links every mark."""
    html = _post_md.render(source or "", {"reference_count": references})
    return nh3.clean(
        html,
        tags=_POST_TAGS,
        attributes=_POST_ATTRIBUTES,
        attribute_filter=_post_attribute,
        set_tag_attribute_values=_POST_IMAGE_LOADING,
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
