"""The internal roles (Django groups) and the model permissions each holds.

The groups are created by a data migration; `roles_sync` is idempotent, so a later
migration calls it again when new models add permissions (see 0003_roles_success).
"""

from __future__ import annotations

from typing import Any

CS_ADMIN = "CS admin"
CSM = "CSM"
READ_ONLY = "Read-only"

_MODELS = {
    "companies": ["company", "person", "companyperson"],
    "relationships": [
        "relationship",
        "relationshipperson",
        "relationshiptype",
        "relationshiptypefield",
    ],
    "partners": ["partner", "partneruser"],
    "success": [
        "activitytype",
        "activity",
        "ctatype",
        "ctareason",
        "ctapriority",
        "ctastatus",
        "cta",
        "task",
        "playbook",
        "playbooktask",
        "scorecard",
        "measuregroup",
        "measure",
        "gradeband",
        "score",
        "scoresnapshot",
        "successplantype",
        "templateobjective",
        "templatetask",
        "successplan",
        "usagemetric",
        "usagevalue",
        "surveyresponse",
    ],
}
# What a CSM adds and changes; CS admins may do everything, read-only users nothing.
_CSM_CHANGES = {
    "companies": ["company", "person", "companyperson"],
    "relationships": ["relationship", "relationshipperson"],
    "success": ["activity", "cta", "task", "score", "successplan", "surveyresponse"],
}


def role_permissions() -> dict[str, set[tuple[str, str]]]:
    """Group name → set of (app_label, codename)."""
    view = {(app, f"view_{model}") for app, models in _MODELS.items() for model in models}
    every = {
        (app, f"{action}_{model}")
        for app, models in _MODELS.items()
        for model in models
        for action in ("view", "add", "change", "delete")
    }
    csm = view | {
        (app, f"{action}_{model}")
        for app, models in _CSM_CHANGES.items()
        for model in models
        for action in ("add", "change")
    }
    # Authors delete their own activities; CSMs remove tasks from their CTAs.
    csm |= {("success", "delete_activity"), ("success", "delete_task")}
    return {CS_ADMIN: every, CSM: csm, READ_ONLY: view}


def roles_sync(apps: Any) -> None:
    """Create the role groups and give each exactly its permissions (`apps`: a registry)."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        # create_permissions skips app configs without models_module, which a migration's
        # registry leaves unset; restore it afterwards (it may be the live registry).
        models_module = getattr(app_config, "models_module", None)
        app_config.models_module = models_module or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = models_module
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in sorted(wanted)
        ]
        group.permissions.set(perms)
