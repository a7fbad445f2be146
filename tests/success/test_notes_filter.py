"""The `notes` filter: plain text with line breaks and clickable web links, never HTML."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from success.templatetags.notes import notes, notes_long

REL = 'rel="noopener noreferrer nofollow"'


def render(text: str) -> str:
    return Template("{% load notes %}{{ text|notes }}").render(Context({"text": text}))


def test_plain_text_keeps_its_line_breaks():
    assert render("Agenda:\n- renewal\r\n- SSO") == "Agenda:<br>- renewal<br>- SSO"


def test_web_addresses_become_links_that_open_safely():
    html = render("Deck at https://docs.example.com/qbr?id=7&lang=en for review")
    assert html == (
        'Deck at <a href="https://docs.example.com/qbr?id=7&amp;lang=en" '
        f'{REL} target="_blank">https://docs.example.com/qbr?id=7&amp;lang=en</a> for review'
    )


def test_sentence_punctuation_and_unbalanced_brackets_stay_outside_the_link():
    html = render("See http://a.example/x. Also (https://b.example/y), and https://c.example/(z)!")
    assert '<a href="http://a.example/x" ' in html and "</a>. Also (" in html
    assert '<a href="https://b.example/y" ' in html and "</a>), and" in html
    assert '<a href="https://c.example/(z)" ' in html and "</a>!" in html


@pytest.mark.parametrize(
    "payload",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>click</a>",
        "javascript:alert(1)",
        '"><svg onload=alert(1)>',
        "<b>bold</b>",
        "&lt;script&gt; already escaped",
    ],
)
def test_markup_in_notes_is_shown_as_text(payload):
    html = render(payload)
    # No tag at all: the only markup the filter ever writes is <br> and <a> for web links.
    assert "<" not in html.replace("<br>", "")
    # What the reader sees is exactly what was typed.
    assert (
        html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
        == payload
    )


@pytest.mark.parametrize(
    "payload",
    [
        'https://x.example/"onmouseover="alert(1)',
        "https://x.example/<script>alert(1)</script>",
        "https://x.example/'onfocus='alert(1)",
        "https://x.example/`x`",
    ],
)
def test_a_link_cannot_break_out_of_its_attribute(payload):
    html = render(payload)
    assert html.count("<a ") == 1
    assert "<script" not in html and "onmouseover=" not in html.split("</a>")[0].split(">")[0]
    anchor_tag = html.split(">")[0]
    assert anchor_tag.startswith('<a href="https://x.example/')
    assert anchor_tag.count('"') == 6  # href, rel and target values, nothing else
    assert anchor_tag.endswith(f'{REL} target="_blank"')


def test_only_web_addresses_are_linked():
    html = render("ftp://files.example mailto:a@b.example data:text/html,x javascript://x")
    assert "<a" not in html


def test_the_filter_escapes_even_text_marked_safe():
    from django.utils.safestring import mark_safe

    assert str(notes(mark_safe("<i>x</i>"))) == "&lt;i&gt;x&lt;/i&gt;"


def test_long_notes_are_those_over_280_characters_or_five_lines():
    assert not notes_long("short")
    assert notes_long("x" * 281)
    assert not notes_long("a\nb\nc\nd")
    assert notes_long("a\nb\nc\nd\ne")
