"""Viewing the application as a partner user: start (from the partner user's admin page),
stop (the banner's button) and the banner itself."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from partners.access import is_cs_admin, is_partner_user, may_view_as
from partners.models import PartnerUser
from partners.view_as import ViewAs, view_as_start, view_as_stop


@login_required
def view_as_begin(request: HttpRequest, user_id: int) -> HttpResponse:
    """Open the application as the partner user `user_id` sees it (admins only, POST)."""
    user = request.user
    # Partner users are not told this exists, whatever the method.
    if is_partner_user(user):
        raise Http404("No such page.")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not is_cs_admin(user):
        raise PermissionDenied("Only admins may view the application as a partner user.")
    assert isinstance(user, User)
    target = User.objects.filter(pk=user_id).first()
    if target is None or not may_view_as(user, target):
        raise Http404("No such partner user.")
    view_as_start(request=request, real_user=user, target=target)
    return redirect("home")


@login_required
@require_POST
def view_as_end(request: HttpRequest) -> HttpResponse:
    """Stop viewing as a partner user: back to that user's admin page."""
    view_as: ViewAs | None = getattr(request, "view_as", None)
    if view_as is None:
        return redirect("home")
    view_as_stop(request=request, real_user=view_as.real_user, target_id=view_as.user.pk)
    membership = PartnerUser.objects.filter(user=view_as.user).first()
    if membership is None:
        return redirect("home")
    return redirect(reverse("admin:partners_partneruser_change", args=[membership.pk]))


@login_required
@require_GET
def view_as_banner(request: HttpRequest) -> HttpResponse:
    """The banner again, after a refused write (`?refused=1`) to say nothing was saved."""
    if getattr(request, "view_as", None) is None:
        raise Http404("You are not viewing the application as anyone.")
    return render(
        request,
        "partners/view_as_banner.html",
        {"refused": request.GET.get("refused") == "1"},
    )
