"""The embed section: only https address templates, filled and encoded, in a sandboxed frame."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from layouts.models import Layout
from layouts.sections import REGISTRY, section_url
from layouts.sections.embed import fill_url_template, placeholder_values
from tests.factories import (
    CompanyFactory,
    LayoutFactory,
    RelationshipFactory,
    RelationshipTypeFactory,
    RelationshipTypeFieldFactory,
    SectionFactory,
)

pytestmark = pytest.mark.django_db

KIND = REGISTRY["embed"]
HTMX = {"HX-Request": "true"}


@pytest.fixture
def c360():
    return LayoutFactory(target=Layout.Target.COMPANY)


@pytest.fixture
def licence():
    kind = RelationshipTypeFactory(name="Licence")
    RelationshipTypeFieldFactory(relationship_type=kind, key="tenant", label="Tenant")
    return kind


@pytest.fixture
def r360(licence):
    return LayoutFactory(target=Layout.Target.RELATIONSHIP, relationship_type=licence)


def _config(url, **overrides):
    return {"url_template": url, "height": 480, "title": "", **overrides}


def _errors(config, layout):
    with pytest.raises(ValidationError) as caught:
        KIND.clean_config(config, layout=layout)
    return caught.value.message_dict["config"]


def _tag(pattern, html):
    match = re.search(pattern, html, re.S)
    assert match, pattern
    return match.group(0)


def _iframe_src(html):
    match = re.search(r'<iframe[^>]*\ssrc="([^"]*)"', html)
    assert match, "no iframe"
    return html_lib.unescape(match.group(1))


# Configuration ------------------------------------------------------------------------


def test_an_https_template_with_known_placeholders_is_accepted(c360):
    config = _config("  https://bi.example.com/acct?id={external_id}&seg={segment}  ")

    cleaned = KIND.clean_config(config, layout=c360)

    assert cleaned["url_template"] == "https://bi.example.com/acct?id={external_id}&seg={segment}"


def test_a_new_section_may_start_without_an_address(c360):
    assert KIND.clean_config(KIND.default_config(c360), layout=c360)["url_template"] == ""


@pytest.mark.parametrize(
    "url",
    [
        "http://bi.example.com/acct?id={id}",
        "javascript:alert(document.cookie)",
        "JavaScript://bi.example.com/%0Aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//bi.example.com/acct",
        "ftp://bi.example.com/acct",
        "bi.example.com/acct?id={id}",
    ],
)
def test_any_other_scheme_is_refused_with_a_sentence(c360, url):
    errors = _errors(_config(url), c360)

    assert errors == [
        "Address: Only secure https:// addresses can be embedded, "
        "e.g. https://bi.example.com/account?id={external_id}."
    ]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "https://bi.example.com/acct?id={password}",
            "Address: Unknown placeholder {password}: use one of {id}, {name}, {external_id}, "
            "{segment}, {industry}, {status}, {stage}.",
        ),
        (
            "https://{name}.example.com/acct",
            "Address: Write the site's address as fixed text before any placeholder, "
            "e.g. https://bi.example.com/account?id={external_id}.",
        ),
        (
            "https://bi.example.com{name}",
            "Address: Write the site's address as fixed text before any placeholder, "
            "e.g. https://bi.example.com/account?id={external_id}.",
        ),
        (
            "https://user:secret@bi.example.com/acct",
            "Address: The address cannot contain a user name or password.",
        ),
        (
            "https://bi.example.com/acct?id={id",
            "Address: The address has a { or } without its partner: write placeholders as {name}.",
        ),
        (
            "https://bi.example.com/acct?id={id!r}",
            "Address: Write the placeholder as {id}, without a format or conversion.",
        ),
        (
            "https://bi.example.com/a b",
            "Address: The address cannot contain spaces or line breaks.",
        ),
    ],
)
def test_unknown_placeholders_and_movable_hosts_are_refused(c360, url, message):
    assert _errors(_config(url), c360) == [message]


def test_relationship_placeholders_are_refused_on_a_c360(c360):
    errors = _errors(_config("https://bi.example.com/x?t={attr.tenant}"), c360)

    assert errors[0].startswith("Address: Unknown placeholder {attr.tenant}")


def test_r360_allows_the_relationship_its_type_fields_and_its_company(r360):
    url = (
        "https://bi.example.com/x?r={id}&t={attr.tenant}&a={external_id}&c={company.name}&arr={arr}"
    )

    assert KIND.clean_config(_config(url), layout=r360)["url_template"] == url
    assert _errors(_config("https://bi.example.com/?x={attr.other}"), r360)[0].startswith(
        "Address: Unknown placeholder {attr.other}"
    )


@pytest.mark.parametrize(("height", "ok"), [(199, False), (200, True), (1200, True), (1201, False)])
def test_the_height_is_between_200_and_1200_pixels(c360, height, ok):
    config = _config("https://bi.example.com/", height=height)
    if ok:
        assert KIND.clean_config(config, layout=c360)["height"] == height
    else:
        assert _errors(config, c360)[0].startswith("Height (pixels): The frame")


def test_the_admin_refuses_a_bad_address_and_saves_nothing(admin_client, c360):
    section = SectionFactory(layout=c360, kind="embed", title="Usage dashboard")
    url = f"/admin/layouts/section/{section.pk}/change/"
    form = {"title": "Usage dashboard", "order": 1, "config_height": "600", "config_title": ""}

    refused = admin_client.post(url, {**form, "config_url_template": "javascript:alert(1)"})
    assert refused.status_code == 200
    assert "Only secure https:// addresses can be embedded" in refused.content.decode()
    section.refresh_from_db()
    assert section.config["url_template"] == ""

    saved = admin_client.post(
        url, {**form, "config_url_template": "https://bi.example.com/a?id={id}"}
    )
    assert saved.status_code == 302
    section.refresh_from_db()
    assert section.config == {
        "url_template": "https://bi.example.com/a?id={id}",
        "height": 600,
        "title": "",
    }


# Rendering --------------------------------------------------------------------------


def test_values_are_url_encoded_and_a_missing_value_is_empty():
    company = CompanyFactory.build(
        pk=7, name="Smith & Sons / EU?#", external_id=None, industry="", segment="enterprise"
    )
    values = placeholder_values(company)

    url = fill_url_template(
        "https://bi.example.com/a?n={name}&x={external_id}&s={segment}&i={id}", values
    )

    assert (
        url == "https://bi.example.com/a?n=Smith%20%26%20Sons%20%2F%20EU%3F%23&x=&s=enterprise&i=7"
    )
    assert "None" not in url


def test_the_section_shows_a_sandboxed_frame_and_a_new_tab_link(csm_client, c360):
    company = CompanyFactory(external_id="ACC-42", name='Acme "Quotes" <b>')
    section = SectionFactory(
        layout=c360,
        kind="embed",
        title="Usage dashboard",
        config=_config("https://bi.example.com/acct?id={external_id}&n={name}", height=640),
    )

    response = csm_client.get(section_url(company, section), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    src = _iframe_src(html)
    assert src == "https://bi.example.com/acct?id=ACC-42&n=Acme%20%22Quotes%22%20%3Cb%3E"
    iframe = _tag(r"<iframe[^>]*>", html)
    assert 'sandbox="allow-scripts allow-forms allow-popups"' in iframe
    assert 'referrerpolicy="no-referrer"' in iframe
    assert 'loading="lazy"' in iframe and 'height="640"' in iframe
    assert 'title="Usage dashboard"' in iframe
    assert "allow-same-origin" not in html
    link = _tag(r'<a class="embed__open"[^>]*>', html)
    assert 'target="_blank"' in link and 'rel="noopener noreferrer"' in link
    assert "Open in a new tab" in html


def test_on_an_r360_the_relationship_and_its_type_fields_fill_the_address(
    csm_client, r360, licence
):
    relationship = RelationshipFactory(
        relationship_type=licence,
        name="Acme Cloud",
        company__external_id="ACC-9",
        company__name="Acme, Inc.",
        arr=Decimal("1200.50"),
        renewal_date=dt.date(2026, 3, 1),
        attributes={"tenant": "acme-eu"},
    )
    section = SectionFactory(
        layout=r360,
        kind="embed",
        config=_config(
            "https://bi.example.com/r/{id}?t={attr.tenant}&acct={external_id}"
            "&arr={arr}&renew={renewal_date}&co={company.name}"
        ),
    )

    html = csm_client.get(section_url(relationship, section), headers=HTMX).content.decode()

    assert _iframe_src(html) == (
        f"https://bi.example.com/r/{relationship.pk}?t=acme-eu&acct=ACC-9"
        "&arr=1200.50&renew=2026-03-01&co=Acme%2C%20Inc."
    )


def test_an_address_written_around_the_admin_is_not_framed(csm_client, c360):
    company = CompanyFactory()
    section = SectionFactory(layout=c360, kind="embed", config=_config("javascript:alert(1)"))

    html = csm_client.get(section_url(company, section), headers=HTMX).content.decode()

    assert "<iframe" not in html and "javascript:" not in html
    assert "This embed cannot be shown: Only secure https:// addresses can be embedded" in html


def test_a_section_without_an_address_says_so(csm_client, c360):
    section = SectionFactory(layout=c360, kind="embed")

    html = csm_client.get(section_url(CompanyFactory(), section), headers=HTMX).content.decode()

    assert "<iframe" not in html
    assert "No address is set for this embed yet" in html


def test_the_section_runs_no_query_of_its_own(csm_client, c360, django_assert_max_num_queries):
    section = SectionFactory(
        layout=c360, kind="embed", config=_config("https://bi.example.com/?id={id}")
    )
    counts = []
    for _size in (1, 20):
        CompanyFactory.create_batch(_size)
        company = CompanyFactory()
        with django_assert_max_num_queries(6) as captured:
            assert csm_client.get(section_url(company, section), headers=HTMX).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
