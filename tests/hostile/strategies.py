"""Hostile input for the property tests: what a browser, a script or a CSV file might send."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import strategies as st

# Values that have broken parsers before: NUL bytes, huge and non-finite numbers, markup,
# template syntax, right-to-left marks, lone surrogates' neighbours, very long text.
NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\u202e\u2066",
    "😀" * 3,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "{{7*7}}",
    "{% debug %}",
    "${7*7}",
    "' OR 1=1 --",
    "%s%n%x",
    "../../etc/passwd",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "-0",
    "9" * 400,
    "0x1F",
    "1_000",
    "１２３",  # full-width digits
    "2024-02-30",
    "0000-00-00",
    "9999-12-31",
    "-1",
    "true",
    "None",
    "null",
    "[]",
    "{}",
    "a" * 10_001,
    "\r\n\t",
    "http://",
    "https://exa mple.com",
    "mailto:x@example.com",
    "x@y",
    "@@",
]

hostile_text = st.one_of(
    st.sampled_from(NASTY_STRINGS),
    st.text(max_size=300),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(dt.date.isoformat),
)

hostile_json = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.dates(),
        hostile_text,
    ),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)

# A query-string value as a browser would send it (no NUL bytes there: the test client sends
# them, which is the point).
param_value = st.one_of(
    hostile_text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.just(str(Decimal("1e999"))),
)
