"""The hierarchy section: the family tree, its rollups and the "move under…" dialog."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission

from companies.forms import CompanyMoveForm
from companies.models import Company
from companies.selectors import company_hierarchy_section, company_move_targets
from companies.services import company_create
from layouts.models import Section
from layouts.sections import REGISTRY, section_url
from tests.factories import LayoutFactory, PartnerFactory, SectionFactory
from tests.pages import open_360

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def hierarchy_section(**config) -> Section:
    """A C360 layout (tried before the default) whose one section is the hierarchy."""
    section = SectionFactory(layout=LayoutFactory(), kind="hierarchy")
    if config:
        section.config = {**section.config, **config}
        section.save()
    return section


def get_section(client, company, section) -> str:
    response = client.get(section_url(company, section), headers=HTMX)
    assert response.status_code == 200
    return response.content.decode()


def tree_rows(html: str) -> list[tuple[str, int]]:
    """The tree's rows as (text, depth), top to bottom."""
    tree = html.split('<ol class="tree">', 1)[1].split("</ol>", 1)[0]
    rows = []
    for item in re.findall(r"<li ([^>]*)>(.*?)</li>", tree, flags=re.S):
        attributes, body = item
        depth = re.search(r"family-node--depth-(-?\d+)", attributes)
        name = re.search(r'family-node__name">(?:<a [^>]*>)?([^<]+)', body)
        text = name.group(1) if name else re.sub(r"<[^>]+>|\s+", " ", body).strip()
        rows.append((text, int(depth.group(1)) if depth else 0))
    return rows


def names(company_name_prefix: str) -> dict[str, Company]:
    return {c.name: c for c in Company.objects.filter(name__startswith=company_name_prefix)}


@pytest.fixture
def family() -> dict[str, Company]:
    """Five levels: Umbrella Group > Europe > (France, Germany > Berlin > Mitte), and Asia."""
    group = company_create(name="Umbrella Group", arr=Decimal(1000), mrr=Decimal(80))
    europe = company_create(name="Umbrella Europe", parent=group, arr=Decimal(500), mrr=Decimal(40))
    company_create(name="Umbrella Asia", parent=group, arr=Decimal(900), mrr=Decimal(75))
    germany = company_create(
        name="Umbrella Germany", parent=europe, arr=Decimal(300), mrr=Decimal(25)
    )
    company_create(
        name="Umbrella France",
        parent=europe,
        arr=Decimal(200),
        mrr=Decimal(15),
        status=Company.Status.AT_RISK,
    )
    berlin = company_create(name="Umbrella Berlin", parent=germany, arr=Decimal(120), mrr=10)
    company_create(name="Umbrella Mitte", parent=berlin, arr=Decimal(80), mrr=Decimal(5))
    return names("Umbrella")


# ---------- the tree and its rollups ----------


def test_tree_lists_ancestors_the_company_and_every_descendant_in_tree_order(csm_client, family):
    section = hierarchy_section()

    html = get_section(csm_client, family["Umbrella Europe"], section)

    assert tree_rows(html) == [
        ("Umbrella Group", 0),
        ("Umbrella Europe", 1),
        ("Umbrella France", 2),
        ("Umbrella Germany", 2),
        ("Umbrella Berlin", 3),
        ("Umbrella Mitte", 4),
    ]
    assert "Umbrella Asia" not in html  # a sibling, not family below
    assert 'aria-current="true"' in html
    # Each node with its ARR and status.
    france = html.split("Umbrella France", 1)[1].split("</li>", 1)[0]
    assert "At risk" in france and "$200" in france
    mitte = html.split("Umbrella Mitte", 1)[1].split("</li>", 1)[0]
    assert "Active" in mitte and "$80" in mitte
    # Every other company links to its own C360 page.
    for name in ("Umbrella Group", "Umbrella France", "Umbrella Germany", "Umbrella Mitte"):
        assert f'<a href="{family[name].get_absolute_url()}">{name}</a>' in html


def test_rollups_count_and_sum_the_whole_subtree(csm_client, family):
    section = hierarchy_section()

    europe = get_section(csm_client, family["Umbrella Europe"], section)
    group = get_section(csm_client, family["Umbrella Group"], section)
    mitte = get_section(csm_client, family["Umbrella Mitte"], section)

    assert "<dt>Companies below</dt><dd>4</dd>" in europe
    assert "<dt>Direct children</dt><dd>2</dd>" in europe
    assert "<dt>Family ARR</dt><dd>$1,200</dd>" in europe  # 500 + 300 + 200 + 120 + 80
    assert "<dt>Family MRR</dt><dd>$95</dd>" in europe
    assert "<dt>Companies below</dt><dd>6</dd>" in group
    assert "<dt>Family ARR</dt><dd>$3,100</dd>" in group
    assert "Level 5 of 5" in mitte and "<dt>Companies below</dt><dd>0</dd>" in mitte
    assert [name for name, _ in tree_rows(mitte)][-1] == "Umbrella Mitte"


def test_a_company_on_its_own_says_so(csm_client):
    solo = company_create(name="Solo Traders")

    html = get_section(csm_client, solo, hierarchy_section())

    assert "Solo Traders stands on its own" in html
    assert "Level 1 of 5" in html


def test_the_tree_stops_at_max_nodes_and_says_how_many_more(csm_client, family):
    section = hierarchy_section(max_nodes=3)

    html = get_section(csm_client, family["Umbrella Group"], section)

    rows = [name for name, _ in tree_rows(html)]
    assert rows == [
        "Umbrella Group",
        "Umbrella Asia",
        "Umbrella Europe",
        "Umbrella France",
        "and 3 more",
    ]
    # The totals still count every company.
    assert "<dt>Companies below</dt><dd>6</dd>" in html


def test_max_nodes_defaults_to_fifty_and_is_checked():
    kind = REGISTRY["hierarchy"]
    layout = LayoutFactory()

    assert kind.default_config(layout) == {"max_nodes": 50}
    assert kind.clean_config({"max_nodes": "20"}, layout=layout) == {"max_nodes": 20}
    with pytest.raises(Exception) as error:
        kind.clean_config({"max_nodes": 0}, layout=layout)
    assert "Companies shown below" in str(error.value)


# ---------- partner users see only their companies ----------


def test_a_partner_user_sees_no_company_outside_their_partner(partner_a, partner_a_user):
    theirs = PartnerFactory(name="Other Partner")
    top = company_create(name="Hidden Holding", managed_by=theirs)
    own = company_create(name="Alpha Region", parent=top, managed_by=partner_a)
    hidden = company_create(name="Hidden Office", parent=own, arr=Decimal(999_000))
    company_create(name="Alpha Branch", parent=hidden, managed_by=partner_a, arr=Decimal(10))
    company_create(name="Alpha Shop", parent=own, managed_by=partner_a, arr=Decimal(20))

    context = company_hierarchy_section(user=partner_a_user, company=own)
    targets = company_move_targets(user=partner_a_user, company=own, q="a")

    shown = [a.company.name for a in context["ancestors"]] + [
        n.company.name for n in context["nodes"]
    ]
    assert shown == ["Alpha Shop", "Alpha Branch"]
    assert context["gap_before_company"] is True
    # Alpha Branch hangs under a company they may not see: a gap, not its name.
    assert [n.gap_before for n in context["nodes"]] == [False, True]
    assert context["descendant_count"] == 2
    assert context["subtree_arr"] == own.arr + 30
    assert all(t.company.managed_by_id == partner_a.pk for t in targets)
    assert all(t.parent is None or t.parent.managed_by_id == partner_a.pk for t in targets)


def test_a_partner_breadcrumb_and_tree_never_name_a_hidden_company(partner_a, partner_a_client):
    top = company_create(name="Secret Holding")
    own = company_create(name="Alpha Subsidiary", parent=top, managed_by=partner_a)
    company_create(name="Secret Child", parent=own)

    html = open_360(partner_a_client, own.get_absolute_url())

    assert "Secret Holding" not in html and "Secret Child" not in html


# ---------- moving a company ----------


def move(client, company, section, parent, q=""):
    return client.post(
        section_url(company, section, "move"), {"parent": parent, "q": q}, headers=HTMX
    )


def levels() -> dict[str, tuple[str | None, int]]:
    return {c.name: (c.parent.name if c.parent else None, c.level) for c in Company.objects.all()}


def test_the_move_dialog_searches_companies_as_you_type(csm_client, family):
    company_create(name="Contoso Holdings", external_id="CT-1")
    company_create(name="Northwind", external_id="CONTOSO-EU")
    for number in range(12):
        company_create(name=f"Contoso {number:02}")
    section = hierarchy_section()
    germany = family["Umbrella Germany"]

    dialog = csm_client.get(section_url(germany, section, "move"), headers=HTMX).content.decode()
    by_name = csm_client.get(
        section_url(germany, section, "move-search"), {"q": "contoso"}, headers=HTMX
    ).content.decode()
    by_id = csm_client.get(
        section_url(germany, section, "move-search"), {"q": "contoso-eu"}, headers=HTMX
    ).content.decode()
    own_family = csm_client.get(
        section_url(germany, section, "move-search"), {"q": "umbrella"}, headers=HTMX
    ).content.decode()

    assert (
        "Move Umbrella Germany" in dialog and "Now under <strong>Umbrella Europe</strong>" in dialog
    )
    assert 'hx-trigger="input changed delay:300ms, search"' in dialog
    assert by_name.count('name="parent"') == 10
    # Names that start with the text come before other matches (Northwind: its external ID).
    assert "Contoso 00" in by_name and "Northwind" not in by_name
    assert "Northwind" in by_id and by_id.count('name="parent"') == 1
    # Never the company itself or what is below it.
    assert "Umbrella Germany" not in own_family and "Umbrella Mitte" not in own_family
    assert "Umbrella France" in own_family and "under Umbrella Europe" in own_family


def test_moving_under_another_company_moves_the_subtree(csm_client, family):
    section = hierarchy_section()
    germany, asia = family["Umbrella Germany"], family["Umbrella Asia"]

    response = move(csm_client, germany, section, str(asia.pk))

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"  # the header's breadcrumb must show the new place
    after = levels()
    assert after["Umbrella Germany"] == ("Umbrella Asia", 2)
    assert after["Umbrella Mitte"] == ("Umbrella Berlin", 4)
    html = get_section(csm_client, Company.objects.get(pk=asia.pk), section)
    assert [name for name, _ in tree_rows(html)] == [
        "Umbrella Group",
        "Umbrella Asia",
        "Umbrella Germany",
        "Umbrella Berlin",
        "Umbrella Mitte",
    ]


def test_moving_to_the_top_level(csm_client, family):
    section = hierarchy_section()

    response = move(csm_client, family["Umbrella Germany"], section, "top")

    assert response.status_code == 204
    assert levels()["Umbrella Germany"] == (None, 0)
    assert levels()["Umbrella Mitte"] == ("Umbrella Berlin", 2)


def test_moving_under_its_own_descendant_is_refused_in_the_dialog(csm_client, family):
    section = hierarchy_section()
    before = levels()

    response = move(
        csm_client, family["Umbrella Europe"], section, str(family["Umbrella Berlin"].pk), "berl"
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        "Umbrella Europe cannot be moved under Umbrella Berlin: "
        "Umbrella Berlin is one of its own descendants."
    ) in html
    assert 'class="alert alert--error move-form__error"' in html
    assert 'value="berl"' in html  # the search is kept
    assert levels() == before


def test_moving_below_the_fifth_level_is_refused_in_the_dialog(csm_client, family):
    section = hierarchy_section()
    before = levels()
    # Germany's subtree is three levels deep: under France (level 3) Mitte would be level 6.
    response = move(
        csm_client, family["Umbrella Germany"], section, str(family["Umbrella France"].pk)
    )
    # A company under the deepest one would be level 6 itself.
    leaf = move(csm_client, family["Umbrella Asia"], section, str(family["Umbrella Mitte"].pk))

    assert response.status_code == 200
    assert (
        "A company hierarchy is at most five levels deep: under Umbrella France, the deepest "
        "company below Umbrella Germany would be at level 6."
    ) in response.content.decode()
    assert (
        "A company hierarchy is at most five levels deep: Umbrella Asia would be at level 6."
    ) in leaf.content.decode()
    assert levels() == before


@pytest.mark.parametrize("parent", ["", "999999", "not-a-number"])
def test_a_missing_target_asks_to_choose_from_the_list(csm_client, family, parent):
    section = hierarchy_section()
    before = levels()

    response = move(csm_client, family["Umbrella Germany"], section, parent)

    assert response.status_code == 200
    assert "Choose a company from the list." in response.content.decode()
    assert levels() == before


def test_a_target_the_user_may_not_see_is_answered_like_a_missing_one(partner_a, partner_a_user):
    hidden = company_create(name="Someone Else's")
    own = company_create(name="Alpha", managed_by=partner_a)

    hidden_form = CompanyMoveForm({"parent": str(hidden.pk)}, user=partner_a_user)
    own_form = CompanyMoveForm({"parent": str(own.pk)}, user=partner_a_user)
    missing_form = CompanyMoveForm({"parent": "999999"}, user=partner_a_user)

    assert not hidden_form.is_valid() and not missing_form.is_valid()
    assert (
        hidden_form.errors == missing_form.errors == {"parent": ["Choose a company from the list."]}
    )
    assert own_form.is_valid() and own_form.cleaned_data["parent"] == own


# ---------- who may move ----------


def test_the_csm_sees_move_under(csm_client, family):
    html = get_section(csm_client, family["Umbrella Europe"], hierarchy_section())

    assert 'hx-target="#modal" hx-swap="innerHTML">Move under…</button>' in html


def test_a_read_only_user_sees_no_move_and_cannot_post(viewer_client, family):
    section = hierarchy_section()
    germany = family["Umbrella Germany"]
    before = levels()

    html = get_section(viewer_client, germany, section)
    post = move(viewer_client, germany, section, "top")
    dialog = viewer_client.get(section_url(germany, section, "move"), headers=HTMX)
    search = viewer_client.get(
        section_url(germany, section, "move-search"), {"q": "umb"}, headers=HTMX
    )

    assert "Umbrella Berlin" in html
    assert "Move under" not in html
    assert (post.status_code, dialog.status_code, search.status_code) == (403, 403, 403)
    assert levels() == before


def test_a_partner_user_gets_404_from_the_hierarchy_section_even_with_change_rights(
    partner_a, partner_a_user, partner_a_client
):
    """The hierarchy is not a section kind for partners: its URLs answer like missing ones."""
    bundle = Group.objects.create(name="Partner editors")
    bundle.permissions.add(Permission.objects.get(codename="change_company"))
    partner_a_user.groups.add(bundle)
    mine = company_create(name="Alpha One", managed_by=partner_a)
    other = company_create(name="Alpha Two", managed_by=partner_a)
    section = hierarchy_section()

    shown = partner_a_client.get(section_url(mine, section), headers=HTMX)
    moved = move(partner_a_client, mine, section, str(other.pk))
    search = partner_a_client.get(
        section_url(mine, section, "move-search"), {"q": "alpha"}, headers=HTMX
    )

    assert (shown.status_code, moved.status_code, search.status_code) == (404, 404, 404)
    assert Company.objects.get(pk=mine.pk).parent_id is None


# ---------- query budgets ----------


def _hierarchy_queries(client, company, section, django_assert_max_num_queries) -> int:
    with django_assert_max_num_queries(11) as captured:
        get_section(client, company, section)
    return len(captured.captured_queries)


def _family(prefix: str, size: int, partner) -> Company:
    """A five-level family with `size` companies at each level below the top."""
    top = company_create(name=f"{prefix} Top", managed_by=partner)
    parents = [top]
    for level in range(1, 5):
        parent = parents[-1]
        for number in range(size):
            child = company_create(
                name=f"{prefix} L{level}-{number}", parent=parent, managed_by=partner
            )
        parents.append(child)
    return top


# Partner users get no hierarchy section (a 404: see above).
@pytest.mark.parametrize("persona", ["csm_client", "viewer_client"])
def test_hierarchy_queries_do_not_grow_with_the_family(
    request, persona, partner_a, django_assert_max_num_queries
):
    client = request.getfixturevalue(persona)
    section = hierarchy_section(max_nodes=10)
    small = _family("Small", 1, partner_a)
    large = _family("Large", 8, partner_a)
    small_middle = Company.objects.get(name="Small L1-0")
    large_middle = Company.objects.get(name="Large L1-7")

    counts = [
        _hierarchy_queries(client, company, section, django_assert_max_num_queries)
        for company in (small, large, small_middle, large_middle)
    ]

    assert counts[0] == counts[1] == counts[2] == counts[3]
    assert "and 22 more" in get_section(client, large, section)
