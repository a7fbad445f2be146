"""`manage.py soak --url http://127.0.0.1:PORT`: CSMs and partner users load a running server.

Before the run it makes (or refreshes) its own logins in this database — soak CSMs in the CSM
group, soak partner users of the partners that manage companies — with a password of the run;
the demo logins csm, partner-a and partner-b join them when they still have their demo
passwords. After it, every write it made is looked up in this database (the server's). It
fails (exit status 1) on any error or any lost write. See gainsight_lite/loadtest.py.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from gainsight_lite.loadtest import Login, check_local, run_load, verify_writes
from partners.models import Partner, PartnerUser
from partners.roles import CSM
from partners.services import partner_user_add

DEMO_LOGINS = (("csm", False), ("partner-a", True), ("partner-b", True))


class Command(BaseCommand):
    help = "Run the mixed read/write load against a server on 127.0.0.1 and check no write is lost."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", required=True, help="The server, e.g. http://127.0.0.1:8000")
        parser.add_argument(
            "--seconds", type=float, default=30.0, help="How long the load runs (default 30)."
        )
        parser.add_argument(
            "--max-requests",
            type=int,
            default=200_000,
            help="Stop earlier once this many requests were made (default 200000).",
        )
        parser.add_argument("--csms", type=int, default=4, help="Soak CSMs (default 4).")
        parser.add_argument(
            "--partner-users", type=int, default=2, help="Soak partner users (default 2)."
        )
        parser.add_argument(
            "--no-demo-logins",
            action="store_true",
            help="Leave the demo logins (csm, partner-a, partner-b) out.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            base_url = check_local(options["url"])
        except ValueError as error:
            raise CommandError(str(error)) from None
        if options["seconds"] <= 0 or options["seconds"] > 3600:
            raise CommandError("--seconds must be between 0 and 3600.")
        logins = soak_logins(csms=options["csms"], partner_users=options["partner_users"])
        if not options["no_demo_logins"]:
            logins += demo_logins()
        if not logins:
            raise CommandError("No login to run the load with: ask for at least one --csms.")
        people = ", ".join(login.username for login in logins)
        self.stdout.write(f"Load on {base_url} for {options['seconds']:g} s as {people}")
        report, _ = run_load(
            base_url=base_url,
            logins=logins,
            seconds=options["seconds"],
            max_requests=options["max_requests"],
        )
        verify_writes(report)
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            raise CommandError(
                f"The soak run failed: {report.errors} errors, {len(report.lost)} lost writes, "
                f"{report.requests} requests."
            )
        self.stdout.write(self.style.SUCCESS("Soak passed: no errors, no lost writes."))


@transaction.atomic
def soak_logins(*, csms: int, partner_users: int) -> list[Login]:
    """The soak's own logins, made or refreshed, each with this run's password."""
    password = secrets.token_urlsafe(16)
    logins: list[Login] = []
    csm_group = Group.objects.get(name=CSM)
    for number in range(1, csms + 1):
        user = _user(f"soak-csm-{number}", "Soak", f"CSM {number}", password)
        user.groups.set([csm_group])
        logins.append(Login(user.username, password))
    partners = list(
        Partner.objects.filter(active=True, companies__isnull=False).distinct().order_by("name")
    )
    for number in range(1, partner_users + 1 if partners else 1):
        partner = partners[(number - 1) % len(partners)]
        user = _user(f"soak-partner-{number}", "Soak", f"Partner user {number}", password)
        membership = PartnerUser.objects.filter(user=user).first()
        if membership is None:
            partner_user_add(partner=partner, user=user)
        logins.append(Login(user.username, password, partner=True))
    return logins


def _user(username: str, first_name: str, last_name: str, password: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name}
    )
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


def demo_logins() -> list[Login]:
    """The demo's CSM and partner logins, when they still have their demo passwords."""
    found = []
    for username, partner in DEMO_LOGINS:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is not None and user.check_password(username):
            found.append(Login(username, username, partner=partner))
    return found
