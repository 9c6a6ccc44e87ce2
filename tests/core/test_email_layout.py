"""Every HTML email wears the one layout (the practice's name, 18 px text, a footer with
the postal address, the contact address and why she gets it), and keeps its text twin
with the same footer."""

import re
from pathlib import Path

import pytest
from flask import render_template, render_template_string
from jinja2 import nodes

EMAIL_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
HTML_EMAILS = sorted(p.stem for p in EMAIL_DIR.glob("*.html") if not p.name.startswith("_"))
TEXT_EMAILS = sorted(p.stem for p in EMAIL_DIR.glob("*.txt") if not p.name.startswith("_"))


def _parse(app, name):
    source = (EMAIL_DIR / name).read_text()
    return app.jinja_env.parse(source)


def test_the_walk_finds_the_emails():
    assert len(HTML_EMAILS) >= 20
    assert {"order_confirmation", "newsletter_issue", "newsletter_welcome"} <= set(HTML_EMAILS)


@pytest.mark.parametrize("name", HTML_EMAILS)
def test_every_html_email_extends_the_layout_and_says_why_she_gets_it(app, name):
    tree = _parse(app, f"{name}.html")
    [extends] = list(tree.find_all(nodes.Extends))
    assert extends.template.value == "email/_layout.html"
    blocks = {block.name: block for block in tree.find_all(nodes.Block)}
    assert "content" in blocks
    source = (EMAIL_DIR / f"{name}.html").read_text()
    why = re.search(r"{% block why %}(.*?){% endblock %}", source, re.S).group(1)
    assert why.startswith("You get this email because ")


@pytest.mark.parametrize("name", HTML_EMAILS)
def test_every_html_email_has_a_text_twin_with_the_shared_footer(app, name):
    assert name in TEXT_EMAILS
    tree = _parse(app, f"{name}.txt")
    includes = [node.template.value for node in tree.find_all(nodes.Include)]
    assert includes == ["email/_footer.txt"]
    assigned = [node.target.name for node in tree.find_all(nodes.AssignBlock)]
    assert assigned == ["why"]


def test_no_text_email_is_left_without_its_html_twin():
    assert set(TEXT_EMAILS) == set(HTML_EMAILS)


def test_a_rendered_email_has_the_header_18px_text_and_the_footer(app):
    app.config["PRACTICE_POSTAL_ADDRESS"] = "12 Bone Lane\nSpringfield, OR 97477"
    app.config["PRACTICE_CONTACT_EMAIL"] = "care@betterbones.example"
    with app.test_request_context():
        html = render_template("email/test_message.html", subject="Hello", greeting="Hi there")
        text = render_template("email/test_message.txt", subject="Hello", greeting="Hi there")

    assert "Better Bones \u2014 Dr. Susan E. Brown, PhD" in html
    assert re.search(r"<body [^>]*font-size: 18px", html)
    assert re.search(r'class="content" [^>]*font-size: 18px', html)
    assert "Hi there" in html
    assert "12 Bone Lane<br>Springfield, OR 97477" in html
    assert 'href="mailto:care@betterbones.example"' in html
    assert "You get this email because someone on the Better Bones staff sent a test" in html
    assert not re.search(r"font-size: 1[0-7]px", html)  # nothing smaller than 18 px
    assert "<link" not in html and "<img" not in html  # no external CSS or images

    assert text.startswith("Hi there")
    assert "You get this email because someone on the Better Bones staff sent a test" in text
    assert "12 Bone Lane\nSpringfield, OR 97477" in text
    assert "care@betterbones.example" in text


def test_a_button_is_a_link_to_its_address_in_a_coloured_cell(app):
    with app.test_request_context():
        html = render_template_string(
            '{% from "email/_macros.html" import button %}'
            '{{ button("https://example.com/a?b=1&c=2", "Open <it>") }}'
        )
    [link] = re.findall(r"<a [^>]*>.*?</a>", html)
    assert 'href="https://example.com/a?b=1&amp;c=2"' in link
    assert ">Open &lt;it&gt;</a>" in link
    assert "font-size: 18px" in link
    assert 'bgcolor="#0b5563"' in html
