"""Embed addresses under hostile input: only https, only in sandboxed frames.

Any address template an admin can type is refused with a sentence or, once accepted, fills to
an https address on the template's own host whatever the record's fields hold; and every frame
any page shows (see `frame_problems`, also applied by test_escaping to every page) is an https
address in a sandbox without same-origin rights.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from layouts.sections.embed import (
    COMPANY_PLACEHOLDERS,
    check_url_template,
    fill_url_template,
)
from tests.hostile.strategies import hostile_text

IFRAME = re.compile(r"<iframe\b[^>]*>", re.IGNORECASE)
SRC = re.compile(r'\bsrc="([^"]*)"', re.IGNORECASE)
SANDBOX = re.compile(r'\bsandbox="([^"]*)"', re.IGNORECASE)


def frame_problems(page: str) -> list[str]:
    """Frames that are not an https address in a sandbox without same-origin rights."""
    found = []
    for tag in IFRAME.findall(page):
        src = SRC.search(tag)
        sandbox = SANDBOX.search(tag)
        if src is None or not src.group(1).startswith("https://"):
            found.append(f"a frame not on https: {tag[:160]!r}")
        if sandbox is None:
            found.append(f"a frame without a sandbox: {tag[:160]!r}")
        elif "allow-same-origin" in sandbox.group(1).split():
            found.append(f"a sandbox that gives the frame its origin back: {tag[:160]!r}")
    return found


def test_the_frame_check_catches_unsafe_frames() -> None:
    assert frame_problems('<iframe src="http://x.example/">')
    assert frame_problems('<iframe src="javascript:alert(1)" sandbox="">')
    assert frame_problems('<iframe src="https://x.example/">')
    assert frame_problems(
        '<iframe src="https://x.example/" sandbox="allow-scripts allow-same-origin">'
    )
    assert not frame_problems('<iframe src="https://x.example/" sandbox="allow-scripts">')


templates = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            " javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "http://bi.example.com/",
            "//evil.example/",
            "https:evil.example",
            "https:/evil.example",
            "https:\\\\evil.example",
            "https://{name}",
            "https://bi.example.com@evil.example/",
            "https://bi.example.com\\@evil.example/",
            "https://bi.example.com#{name}",
            "https://bi.example.com/{name}/../../x",
            "https://bi.example.com/\x00",
            "https://bi.example.com/\u202e",
            "ｈｔｔｐｓ://bi.example.com/",
        ]
    ),
    st.builds(
        lambda path, field: f"https://bi.example.com/{path}{{{field}}}",
        st.text(max_size=20),
        st.sampled_from(COMPANY_PLACEHOLDERS),
    ),
)


@given(
    template=templates,
    values=st.fixed_dictionaries(dict.fromkeys(["name", "industry", "external_id"], hostile_text)),
)
@example(
    template="https://bi.example.com/a?n={name}",
    values={"name": "x@evil.example/#", "industry": "", "external_id": ""},
)
def test_an_accepted_template_always_fills_to_its_own_https_host(
    template: str, values: dict[str, str]
) -> None:
    try:
        checked = check_url_template(template, COMPANY_PLACEHOLDERS)
    except ValidationError as error:
        assert error.messages and error.messages[0].strip()
        return
    host = urlsplit(checked.replace("{", "").replace("}", "")).hostname
    filled = fill_url_template(checked, {**dict.fromkeys(COMPANY_PLACEHOLDERS, ""), **values})
    assert filled.startswith("https://")
    parts = urlsplit(filled)
    assert parts.hostname == host, f"{template!r} filled with {values!r} went to {filled!r}"
    assert parts.username is None and parts.password is None
    assert not re.search(r"[\s\x00-\x1f\"'<>]", filled)


@pytest.mark.parametrize(
    "template",
    ["javascript:alert(1)", "http://bi.example.com/", "//evil.example/", "data:text/html,x"],
)
def test_other_schemes_are_refused(template: str) -> None:
    with pytest.raises(ValidationError):
        check_url_template(template, COMPANY_PLACEHOLDERS)
