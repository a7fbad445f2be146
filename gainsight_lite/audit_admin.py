"""The admin's view of the audit trail: every audited model's History page, read-only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin


class AuditedAdmin(SimpleHistoryAdmin):  # type: ignore[type-arg]
    """A ModelAdmin with a History page (who changed what and when) and no way back.

    SIMPLE_HISTORY_REVERT_DISABLED hides the Revert button, but a version's page would still
    save a POST: reverting goes around the services, so only reading is allowed here.
    """

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response: HttpResponse = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        return response
