"""The one view that renders a 360 page, and the one that renders (or acts on) a section."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from companies.models import Company
from companies.selectors import company_ancestors, company_hierarchy_gap
from gainsight_lite.http import HtmxHttpRequest, parse_id
from layouts.models import Layout, Section
from layouts.sections import REGISTRY, SectionContext, section_url
from layouts.selection import layout_for, page_section, viewer_for
from partners.access import get_company_for, get_relationship_for, section_kind_allowed
from relationships.models import Relationship
from relationships.selectors import relationship_company_visible

logger = logging.getLogger(__name__)

# Sections this close to the top load at once; the others when scrolled into view.
ABOVE_THE_FOLD = 2


def _header(request: HttpRequest, subject: Company | Relationship) -> dict[str, Any]:
    """The breadcrumb: only ancestors the viewer may see, with a gap where hidden ones sit."""
    company = subject if isinstance(subject, Company) else subject.company
    # A company at the top of its family has no ancestors to look for.
    ancestors = company_ancestors(user=request.user, company=company) if company.level else []
    context: dict[str, Any] = {
        "ancestors": ancestors,
        "gap_before_subject": company_hierarchy_gap(company=company, ancestors=ancestors),
    }
    if isinstance(subject, Relationship):
        context["company_visible"] = relationship_company_visible(
            user=request.user, relationship=subject
        )
    return context


# A section's place on the page: its card, and in it either the focused section's own HTML or
# a skeleton that htmx swaps for the section. Drawn here rather than by a template loop (with
# a dozen sections the loop's lookups cost ~1 ms of every page); page.html places them.
SLOT_HEAD = (
    '<section class="card section section--{kind}" id="section-{id}"'
    ' aria-labelledby="section-{id}-title">\n'
    '    <details class="section__details" {open}>\n'
    '      <summary class="section__header">\n'
    '        <h2 class="section__title" id="section-{id}-title">{title}</h2>\n'
    '        <a class="section__link" href="{url}" title="Open this section on its own">#</a>\n'
    "      </summary>\n"
)
SLOT_SKELETON = (
    '        <div class="section__slot" hx-get="{url}" hx-trigger="{trigger}"'
    ' hx-swap="outerHTML">\n'
    '          <div class="skeleton-wrap" aria-busy="true"><svg class="skeleton" width="100%"'
    ' height="{height}" aria-hidden="true" focusable="false"></svg><span'
    ' class="visually-hidden">Loading {title}…</span></div>\n'
    "        </div>\n"
)
NO_HTML = SafeString("")
SLOT_TAIL = mark_safe("    </details>\n  </section>")


def _slot_html(row: dict[str, Any], focus_html: SafeString) -> SafeString:
    # str.format with the text values escaped once (format_html escaped every value of both
    # templates again: half a millisecond for a dozen sections); the same HTML.
    title, url = escape(row["title"]), escape(row["url"])
    kind = escape(row["kind_key"])
    head = SLOT_HEAD.format(
        kind=kind, id=int(row["id"]), open="open" if row["open"] else "", title=title, url=url
    )
    if row["focused"]:
        body = f"        {conditional_escape(focus_html)}\n"
    else:
        body = SLOT_SKELETON.format(
            url=url,
            trigger=escape(row["trigger"]),
            height=int(row["skeleton_height"]),
            title=title,
        )
    return SafeString(head + body + SLOT_TAIL)  # noqa: S704 - every value escaped above


def _placeholders(
    request: HttpRequest,
    subject: Company | Relationship,
    sections: list[Section],
    focus: Section | None,
    focus_html: SafeString = NO_HTML,
) -> list[dict[str, Any]]:
    """The page's section slots, display-ready: their values computed here once, and the
    HTML page.html places (`html`)."""
    rows = []
    # Partner users get the kinds allowed to them only, whatever the layout holds.
    shown = [
        section
        for section in sections
        if (kind := REGISTRY.get(section.kind)) is not None
        and section_kind_allowed(request.user, kind)
    ]
    # A section's URL is the page's followed by sections/<id>/ (layouts/urls.py): one
    # reverse() per page rather than one per section (a test compares it with section_url).
    prefix = f"{subject.get_absolute_url()}sections/"
    for index, section in enumerate(shown):
        kind = REGISTRY[section.kind]
        if section.collapsed:
            trigger = "toggle once from:closest details"
        else:
            # intersect (an IntersectionObserver) fires reliably however fast the user scrolls.
            trigger = "load" if index < ABOVE_THE_FOLD else "intersect once"
        focused = focus is not None and focus.pk == section.pk
        rows.append(
            {
                "id": section.pk,
                "title": section.title,
                "kind_key": kind.key,
                "skeleton_height": kind.skeleton_height,
                "url": f"{prefix}{section.pk}/",
                "trigger": trigger,
                "open": focused or not section.collapsed,
                "focused": focused,
            }
        )
        rows[-1]["html"] = _slot_html(rows[-1], focus_html)
    return rows


def _page(
    request: HttpRequest,
    subject: Company | Relationship,
    *,
    focus: Section | None = None,
    focus_html: str = "",
) -> HttpResponse:
    previewed = _previewed_layout(request, subject)
    layout = previewed or layout_for(subject=subject, viewer=viewer_for(request.user))
    sections = list(layout.sections.all()) if layout else []
    context = {
        "subject": subject,
        "is_company": isinstance(subject, Company),
        "layout": layout,
        "placeholders": _placeholders(
            request,
            subject,
            sections,
            focus,
            mark_safe(focus_html),  # noqa: S308 - our own rendered section
        ),
        "previewing": previewed is not None,
        **_header(request, subject),
    }
    return render(request, "layouts/page.html", context)


def _layouts_of(subject: Company | Relationship) -> Any:
    if isinstance(subject, Company):
        return Layout.objects.filter(target=Layout.Target.COMPANY)
    return Layout.objects.filter(
        target=Layout.Target.RELATIONSHIP, relationship_type_id=subject.relationship_type_id
    )


def _previewed_layout(request: HttpRequest, subject: Company | Relationship) -> Layout | None:
    """Staff may preview any layout of the subject's page with ?layout=<id> (admin's link)."""
    wanted = parse_id(request.GET.get("layout"))
    if wanted is None or not request.user.is_staff:
        return None
    layout = _layouts_of(subject).prefetch_related("sections").filter(pk=wanted).first()
    if layout is None:
        raise Http404("That layout is not for this kind of page.")
    return layout


def _section_of(request: HttpRequest, subject: Company | Relationship, section_id: int) -> Section:
    """The section `section_id` of the subject's layouts; 404 when the viewer may not see its
    kind (a partner user and a kind not for partners), the same as no such section."""
    # From the layouts the process keeps for this kind of page (their stamp is the one query).
    section = page_section(subject=subject, section_id=section_id)
    if section is None:
        raise Http404("No such section on this page.")
    kind = REGISTRY.get(section.kind)
    if kind is None or not section_kind_allowed(request.user, kind):
        raise Http404("No such section on this page.")
    return section


def _render_section(
    request: HttpRequest, subject: Company | Relationship, section: Section
) -> HttpResponse:
    kind = REGISTRY.get(section.kind)
    if kind is None:
        raise Http404("This kind of section no longer exists.")
    ctx = SectionContext(
        request=request, section=section, subject=subject, params=request.GET.dict()
    )
    frame = {
        "section": section,
        "kind": kind,
        "url": section_url(subject, section),
        "subject": subject,
    }
    try:
        body = kind.context(ctx)
        return render(request, kind.template, {**frame, **body, "ctx": ctx})
    except (Http404, PermissionDenied):
        raise
    except Exception:
        # One broken section must not take the page down: show a short error in its place.
        logger.exception("Section %s (%s) failed for %r", section.pk, section.kind, subject)
        return render(request, "layouts/section_error.html", frame)


def _section(
    request: HtmxHttpRequest, subject: Company | Relationship, section_id: int
) -> HttpResponse:
    section = _section_of(request, subject, section_id)
    response = _render_section(request, subject, section)
    if request.htmx:
        return response
    return _page(request, subject, focus=section, focus_html=response.content.decode())


def _action(
    request: HttpRequest, subject: Company | Relationship, section_id: int, action: str
) -> HttpResponse:
    section = _section_of(request, subject, section_id)
    kind = REGISTRY.get(section.kind)
    if kind is None:
        raise Http404("This kind of section no longer exists.")
    ctx = SectionContext(
        request=request, section=section, subject=subject, params=request.GET.dict()
    )
    response = kind.handle(ctx, action)
    if response is None:
        raise Http404("This section has no such action.")
    return response


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def company_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, get_company_for(request.user, pk))


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def company_section(request: HtmxHttpRequest, pk: int, section_id: int) -> HttpResponse:
    return _section(request, get_company_for(request.user, pk), section_id)


@login_required
@require_http_methods(["GET", "POST"])
def company_section_action(
    request: HttpRequest, pk: int, section_id: int, action: str
) -> HttpResponse:
    return _action(request, get_company_for(request.user, pk), section_id, action)


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def relationship_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, get_relationship_for(request.user, pk))


@login_required
@vary_on_headers("HX-Request")
@require_http_methods(["GET", "HEAD"])
def relationship_section(request: HtmxHttpRequest, pk: int, section_id: int) -> HttpResponse:
    return _section(request, get_relationship_for(request.user, pk), section_id)


@login_required
@require_http_methods(["GET", "POST"])
def relationship_section_action(
    request: HttpRequest, pk: int, section_id: int, action: str
) -> HttpResponse:
    return _action(request, get_relationship_for(request.user, pk), section_id, action)
