"""A bounded load and soak test: CSMs and partner users working the app at once over HTTP.

Each virtual user is a thread with its own session (cookies, CSRF token) that signs in through
the login form and then, until the time is up or the request budget is spent, does what its
role does: opens C360 pages and their sections as htmx loads them, the Cockpit, the company
list, the timeline and search (reads); logs activities and opens CTAs (CSMs and partner
users), edits a company's industry in place and scores a scorecard measure (CSMs) — writes,
each through the same dialog or inline form a browser posts, fields read from the served
form. Every write carries a marker made of the run's id; afterwards `verify_writes` looks each
one up in the database (attribute edits and scores in the audit trail, so a later edit of the
same field cannot hide an earlier one): nothing may be missing.

Only the standard library talks HTTP, and only to this machine (127.0.0.1, localhost, ::1).
`manage.py soak` runs it against a server; `.ci/soak` starts gunicorn on PostgreSQL for it.
"""

from __future__ import annotations

import http.client
import random
import re
import secrets
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
TIMEOUT = 30.0
USER_AGENT = "gainsight-lite-soak/1"
FORM_ERROR = 'class="field__error"'
# What a virtual user does, with its weight: reads are most of the traffic.
READS = {"c360": 30, "cockpit": 10, "company_list": 10, "timeline": 6, "search": 8, "r360": 6}
WRITES = {"log_activity": 8, "create_cta": 6, "edit_attribute": 6, "score": 6}
PARTNER_WRITES = ("log_activity", "create_cta")


class LoadError(Exception):
    """A request that failed: its answer or its exception, for the report."""


def check_local(url: str) -> str:
    """The base URL without a trailing slash, or ValueError unless it is on this machine."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS:
        raise ValueError(f"The load test only runs against http://127.0.0.1 (got {url!r}).")
    return f"{parts.scheme}://{parts.netloc}"


# ---------- forms, as a browser reads them ----------


@dataclass
class Form:
    attrs: dict[str, str]
    fields: list[tuple[str, str]] = field(default_factory=list)
    selects: dict[str, list[str]] = field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.attrs.get("hx-post") or self.attrs.get("action") or ""

    def values(self, **changes: str) -> list[tuple[str, str]]:
        """The fields as posted, with `changes` replacing (or adding) some."""
        posted = [(name, value) for name, value in self.fields if name not in changes]
        return posted + list(changes.items())

    def value(self, name: str) -> str:
        return next((value for key, value in self.fields if key == name), "")

    def first_choice(self, name: str) -> str:
        """The select's first non-empty option."""
        return next((value for value in self.selects.get(name, []) if value), "")


class FormParser(HTMLParser):
    """The forms of a page with the values a browser would post (selected, checked, typed)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: tuple[str, list[str], list[str]] | None = None  # name, options, chosen
        self._option: str | None = None
        self._textarea: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {key: value or "" for key, value in attrs_list}
        if tag == "form":
            self._form = Form(attrs=attrs)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name", "")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            form.fields.append((name, attrs.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            value = attrs.get("value")
            self._option = value
            if value is not None:
                self._select[1].append(value)
                if "selected" in attrs:
                    self._select[2].append(value)
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._select is not None and self._option is None and data.strip():
            # <option>Label</option> without a value posts its text.
            self._select[1].append(data.strip())

    def handle_endtag(self, tag: str) -> None:
        form = self._form
        if tag == "form":
            self._form = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None and form is not None:
            name, options, chosen = self._select
            form.selects[name] = options
            picked = chosen[-1] if chosen else (options[0] if options else None)
            if picked is not None:
                form.fields.append((name, picked))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and form is not None:
            name, parts = self._textarea
            form.fields.append((name, "".join(parts).removeprefix("\n")))
            self._textarea = None


def forms_of(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def posting_form(html: str) -> Form:
    """The form on a dialog or inline edit that posts (hx-post or method=post)."""
    for form in forms_of(html):
        if form.attrs.get("hx-post") or form.attrs.get("method", "").lower() == "post":
            return form
    raise LoadError("no form to post in the answer")


def included(form: Form, page: str) -> list[tuple[str, str]]:
    """The inputs a form's hx-include="#id, …" adds to what it posts, found on `page`."""
    found: list[tuple[str, str]] = []
    for selector in form.attrs.get("hx-include", "").split(","):
        selector = selector.strip()
        if not selector.startswith("#"):
            continue
        for other in forms_of(f"<form>{_element(page, selector[1:])}</form>"):
            found += other.fields
    return found


def _element(page: str, element_id: str) -> str:
    """The <input …> tag with this id on the page ("" when there is none)."""
    match = re.search(rf'<input\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    return match.group(0) if match else ""


# ---------- one signed-in session ----------


@dataclass
class Answer:
    status: int
    body: str
    path: str


class Session:
    """A browser-like session on one keep-alive connection: cookies, CSRF, redirects."""

    def __init__(self, base_url: str, record: Callable[[str, float, int | None], None]) -> None:
        parts = urlsplit(check_local(base_url))
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.cookies: dict[str, str] = {}
        self.record = record
        self.connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> http.client.HTTPResponse:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
            try:
                self.connection.request(method, path, body=body, headers=headers)
                return self.connection.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def request(
        self,
        method: str,
        path: str,
        *,
        data: list[tuple[str, str]] | None = None,
        htmx: bool = False,
        label: str,
        allowed: tuple[int, ...] = (),
    ) -> Answer:
        """One request (and its redirects), timed and recorded under `label`."""
        for _ in range(5):
            headers = {"User-Agent": USER_AGENT, "Accept": "text/html", "Connection": "keep-alive"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if method == "POST":
                body = urlencode(data or []).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
                headers["Origin"] = f"http://{self.host}:{self.port}"
            if htmx:
                headers["HX-Request"] = "true"
            started = time.perf_counter()
            try:
                response = self._send(method, path, body, headers)
                content = response.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as error:
                self.close()
                self.record(label, time.perf_counter() - started, None)
                raise LoadError(f"{method} {path}: {type(error).__name__}: {error}") from error
            elapsed = time.perf_counter() - started
            self._keep_cookies(response)
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            status = response.status
            ok = status < 400 or status in allowed
            self.record(label, elapsed, status if ok else -status)
            if not ok:
                raise LoadError(f"{method} {path}: HTTP {status}: {content[:200]!r}")
            location = response.getheader("Location")
            if status in (301, 302, 303) and location:
                method, data, path = "GET", None, _local_path(location)
                continue
            return Answer(status=status, body=content, path=path)
        raise LoadError(f"{path}: too many redirects")

    def _keep_cookies(self, response: http.client.HTTPResponse) -> None:
        for header in response.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def sign_in(self, username: str, password: str) -> None:
        page = self.request("GET", "/accounts/login/", label="login")
        form = next(
            (f for f in forms_of(page.body) if f.attrs.get("method", "").lower() == "post"), None
        )
        if form is None:
            raise LoadError("the login page has no form")
        answer = self.request(
            "POST",
            "/accounts/login/",
            data=form.values(username=username, password=password),
            label="login",
        )
        if answer.path.startswith("/accounts/login/"):
            raise LoadError(f"{username} could not sign in")


def _local_path(location: str) -> str:
    parts = urlsplit(location)
    if parts.netloc and parts.hostname not in LOCAL_HOSTS:
        raise LoadError(f"redirected off this machine: {location}")
    return parts.path + (f"?{parts.query}" if parts.query else "")


# ---------- the workload ----------

SECTION = re.compile(
    r'<section class="card section section--(?P<kind>[a-z_]+)".*?hx-get="(?P<url>[^"]+)"', re.S
)
COMPANY_LINK = re.compile(r'href="/companies/(\d+)/"')
RELATIONSHIP_LINK = re.compile(r'href="/relationships/(\d+)/"')
MEASURE_EDIT = re.compile(r'hx-get="([^"]*/edit/\?measure=\d+)"')


@dataclass
class Written:
    """What one virtual user wrote, by kind: markers (and the record they are on)."""

    activities: list[str] = field(default_factory=list)
    ctas: list[str] = field(default_factory=list)
    industries: list[tuple[int, str]] = field(default_factory=list)
    scores: list[tuple[int, str]] = field(default_factory=list)

    def merge(self, other: Written) -> None:
        self.activities += other.activities
        self.ctas += other.ctas
        self.industries += other.industries
        self.scores += other.scores

    @property
    def total(self) -> int:
        return len(self.activities) + len(self.ctas) + len(self.industries) + len(self.scores)


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    partner: bool = False


class VirtualUser:
    """One signed-in user doing their role's work until told to stop."""

    def __init__(
        self,
        *,
        login: Login,
        base_url: str,
        run: LoadRun,
        index: int,
        internal_slot: tuple[int, int] | None,
    ) -> None:
        self.login = login
        self.run = run
        self.index = index
        self.random = random.Random(f"{run.run_id}-{index}")
        self.session = Session(base_url, run.record)
        self.written = Written()
        self.companies: list[int] = []
        self.relationships: list[int] = []
        self.sections: dict[int, dict[str, str]] = {}
        # Internal users edit and score only their share of the companies, so two of them
        # never edit the same field at once (which the stale-edit check would rightly refuse).
        self.slot = internal_slot
        self.sequence = 0

    def marker(self, kind: str) -> str:
        self.sequence += 1
        return f"Soak {self.run.run_id} {self.index}-{self.sequence} {kind}"

    def sign_in(self) -> None:
        """Before the clock starts: sign in (a few at a time) and list the companies to work."""
        try:
            with self.run.signing_in, self.run.turn:
                self.session.sign_in(self.login.username, self.login.password)
                listing = self.session.request("GET", "/companies/", label="login")
            self.companies = sorted({int(pk) for pk in COMPANY_LINK.findall(listing.body)})
        except LoadError as error:
            self.run.error(f"{self.login.username}: {error}")
            return
        if not self.companies:
            self.run.error(f"{self.login.username} sees no company: nothing to work on")

    def main(self) -> None:
        if not self.companies:
            return
        actions = {**READS, **WRITES}
        if self.login.partner:
            actions = {k: w for k, w in actions.items() if k in READS or k in PARTNER_WRITES}
        names, weights = list(actions), list(actions.values())
        # Every action once first (so even a short run writes each kind), then at random;
        # with `rounds`, that many rounds of every action once and no more.
        first = self.random.sample(names, len(names)) * (self.run.rounds or 1)
        while self.run.go():
            if not first and self.run.rounds:
                break
            action = first.pop() if first else self.random.choices(names, weights)[0]
            try:
                with self.run.turn:
                    getattr(self, action)()
            except LoadError as error:
                self.run.error(f"{self.login.username} {action}: {error}")
        self.session.close()

    # ----- helpers -----

    def company(self, mine: bool = False) -> int:
        choices = self.companies
        if mine and self.slot is not None:
            position, count = self.slot
            choices = [pk for pk in self.companies if pk % count == position] or choices
        return self.random.choice(choices)

    def section_urls(self, company: int) -> dict[str, str]:
        """The C360's section URLs by kind, read from the page once per company."""
        if company not in self.sections:
            page = self.session.request("GET", f"/companies/{company}/", label="c360")
            self.sections[company] = {
                m["kind"]: m["url"] for m in SECTION.finditer(page.body) if "/sections/" in m["url"]
            }
            self.relationships = sorted(
                set(self.relationships) | {int(pk) for pk in RELATIONSHIP_LINK.findall(page.body)}
            )[-200:]
        return self.sections[company]

    def section(self, company: int, kind: str) -> str | None:
        return self.section_urls(company).get(kind)

    def post_form(self, form: Form, data: list[tuple[str, str]], label: str) -> Answer:
        answer = self.session.request("POST", form.target, data=data, htmx=True, label=label)
        if FORM_ERROR in answer.body:
            errors = re.findall(r'class="field__error"[^>]*>([^<]*)<', answer.body)
            raise LoadError(f"the form was refused: {errors[:3]}")
        return answer

    # ----- reads -----

    def c360(self) -> None:
        company = self.company()
        fresh = company not in self.sections
        urls = self.section_urls(company)
        if not fresh:
            self.session.request("GET", f"/companies/{company}/", label="c360")
        # The sections above the fold and one more, as htmx loads them.
        wanted = [kind for kind in ("summary", "attributes", "timeline") if kind in urls]
        others = [kind for kind in urls if kind not in wanted]
        if others:
            wanted.append(self.random.choice(others))
        for kind in wanted:
            self.session.request("GET", urls[kind], htmx=True, label="section")

    def r360(self) -> None:
        if not self.relationships:
            self.section_urls(self.company())
        if self.relationships:
            pk = self.random.choice(self.relationships)
            # 404 is the answer for a relationship this user may not see (a partner whose
            # scope is companies only): the page was linked, so it is not an error here.
            self.session.request("GET", f"/relationships/{pk}/", label="r360", allowed=(404,))

    def cockpit(self) -> None:
        self.session.request("GET", "/cockpit/", label="cockpit")

    def company_list(self) -> None:
        page = self.random.choice(["", "?page=2", "?status=active", "?segment=enterprise"])
        self.session.request("GET", f"/companies/{page}", label="company_list")

    def timeline(self) -> None:
        self.session.request("GET", "/timeline/", label="timeline")

    def search(self) -> None:
        words = ["acme", "global", "sys", "tech", "group", "data", "north", "cloud", "inc"]
        query = urlencode({"q": self.random.choice(words)})
        self.session.request("GET", f"/search/?{query}", label="search")

    # ----- writes -----

    def log_activity(self) -> None:
        company = self.company()
        url = self.section(company, "timeline")
        if url is None:
            return
        dialog = self.session.request("GET", f"{url}log/", htmx=True, label="log_activity")
        form = posting_form(dialog.body)
        subject = self.marker("activity")
        changes = {"subject": subject, "notes": "Logged by the soak test."}
        if not form.value("activity_type"):
            changes["activity_type"] = form.first_choice("activity_type")
        self.post_form(form, form.values(**changes), "log_activity")
        self.written.activities.append(subject)

    def create_cta(self) -> None:
        company = self.company()
        dialog = self.session.request(
            "GET", f"/cockpit/ctas/new/?company={company}", htmx=True, label="create_cta"
        )
        form = posting_form(dialog.body)
        name = self.marker("CTA")
        changes = {"name": name}
        for required in ("cta_type", "priority", "status"):
            if not form.value(required):
                changes[required] = form.first_choice(required)
        self.post_form(form, form.values(**changes), "create_cta")
        self.written.ctas.append(name)

    def edit_attribute(self) -> None:
        company = self.company(mine=True)
        url = self.section(company, "attributes")
        if url is None:
            return
        # The section as shown (it holds the record's version, which a save carries), then
        # the field's inline form.
        section = self.session.request("GET", url, htmx=True, label="section")
        editor = self.session.request(
            "GET", f"{url}edit/?field=industry", htmx=True, label="edit_attribute"
        )
        form = posting_form(editor.body)
        industry = self.marker("industry")[:80]
        data = form.values(value=industry) + included(form, section.body)
        self.post_form(form, data, "edit_attribute")
        self.written.industries.append((company, industry))

    def score(self) -> None:
        company = self.company(mine=True)
        url = self.section(company, "scorecard")
        if url is None:
            return
        section = self.session.request("GET", url, htmx=True, label="section")
        edits = MEASURE_EDIT.findall(section.body)
        if not edits:
            return
        editor = self.session.request(
            "GET", self.random.choice(edits).replace("&amp;", "&"), htmx=True, label="score"
        )
        form = posting_form(editor.body)
        comment = self.marker("score")
        value = str(self.random.randint(0, 100))
        self.post_form(form, form.values(value=value, comment=comment), "score")
        self.written.scores.append((company, comment))


# ---------- a run ----------


@dataclass
class Report:
    run_id: str
    seconds: float
    requests: int
    errors: int
    error_samples: list[str]
    percentiles: dict[str, float]
    by_label: dict[str, tuple[int, float]]  # label → (count, p95 ms)
    written: Written
    lost: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.errors == 0 and not self.lost and self.requests > 0

    def lines(self) -> list[str]:
        p = self.percentiles
        rate = self.requests / self.seconds if self.seconds else 0.0
        w = self.written
        lines = [
            f"run {self.run_id}: {self.requests} requests in {self.seconds:.1f} s "
            f"({rate:.1f}/s; sign-ins before, not counted), {self.errors} errors",
            f"latency ms: p50 {p['p50']:.1f} · p95 {p['p95']:.1f} · p99 {p['p99']:.1f} · "
            f"max {p['max']:.1f}",
        ]
        for label, (count, p95) in sorted(self.by_label.items()):
            lines.append(f"  {label:<15} {count:>7} requests  p95 {p95:8.1f} ms")
        lines.append(
            f"writes: {w.total} ({len(w.activities)} activities, {len(w.ctas)} CTAs, "
            f"{len(w.industries)} attribute edits, {len(w.scores)} scores); "
            f"{len(self.lost)} lost"
        )
        lines += [f"  error: {sample}" for sample in self.error_samples]
        lines += [f"  lost: {item}" for item in self.lost[:20]]
        return lines


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


class LoadRun:
    """Shared state of a run: the clock, the request budget, timings and errors."""

    def __init__(
        self,
        *,
        seconds: float,
        max_requests: int,
        run_id: str | None = None,
        rounds: int | None = None,
        concurrency: int | None = None,
    ) -> None:
        self.run_id = run_id or secrets.token_hex(4)
        self.rounds = rounds
        # At most this many users act at once (None: all of them).
        self.turn: AbstractContextManager[Any] = (
            threading.Semaphore(concurrency) if concurrency else nullcontext()
        )
        self.seconds = seconds
        self.max_requests = max_requests
        self.lock = threading.Lock()
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.statuses: Counter[int] = Counter()
        self.requests = 0
        self.errors: list[str] = []
        self.deadline = 0.0
        # Password hashing is slow on purpose: a few sign-ins at a time, so none times out.
        self.signing_in = threading.Semaphore(2)

    def go(self) -> bool:
        return time.monotonic() < self.deadline and self.requests < self.max_requests

    def record(self, label: str, elapsed: float, status: int | None) -> None:
        with self.lock:
            self.requests += 1
            self.timings[label].append(elapsed * 1000)
            self.statuses[status or 0] += 1

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


def run_load(
    *,
    base_url: str,
    logins: list[Login],
    seconds: float,
    max_requests: int = 1_000_000,
    run_id: str | None = None,
    rounds: int | None = None,
    concurrency: int | None = None,
) -> tuple[Report, LoadRun]:
    """Run the workload with one thread per login; the report (writes not yet verified).

    It stops at `seconds` or `max_requests`, or (with `rounds`) once each user has done each
    of its actions that many times: the suite's smoke test, which also takes turns
    (`concurrency=1`) because the test server's in-memory SQLite shares one connection
    between its threads.
    """
    check_local(base_url)
    run = LoadRun(
        seconds=seconds,
        max_requests=max_requests,
        run_id=run_id,
        rounds=rounds,
        concurrency=concurrency,
    )
    internal = [login for login in logins if not login.partner]
    users = []
    for index, login in enumerate(logins):
        slot = (internal.index(login), len(internal)) if not login.partner else None
        users.append(
            VirtualUser(login=login, base_url=base_url, run=run, index=index, internal_slot=slot)
        )
    # Signing in first, off the clock; then the workload, all users at once.
    for target in ("sign_in", "main"):
        threads = [
            threading.Thread(target=getattr(user, target), name=f"soak-{user.index}")
            for user in users
        ]
        started = time.monotonic()
        run.deadline = started + seconds
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    elapsed = time.monotonic() - started
    written = Written()
    for user in users:
        written.merge(user.written)
    # Signing in (a deliberately slow password hash) is the run's setup, not its workload.
    every = [ms for label, values in run.timings.items() if label != "login" for ms in values]
    report = Report(
        run_id=run.run_id,
        seconds=elapsed,
        requests=len(every),
        errors=len(run.errors),
        error_samples=run.errors[:10],
        percentiles={
            "p50": percentile(every, 0.50),
            "p95": percentile(every, 0.95),
            "p99": percentile(every, 0.99),
            "max": max(every, default=0.0),
        },
        by_label={
            label: (len(values), percentile(values, 0.95)) for label, values in run.timings.items()
        },
        written=written,
    )
    return report, run


# ---------- afterwards: is every write there? ----------


def verify_writes(report: Report) -> list[str]:
    """What the run wrote that the database does not hold (empty: nothing lost)."""
    from companies.models import Company
    from success.models import CTA, Activity, Score

    prefix = f"Soak {report.run_id} "
    written = report.written
    lost: list[str] = []
    activities = set(
        Activity.objects.filter(subject__startswith=prefix).values_list("subject", flat=True)
    )
    lost += [f"activity {s!r}" for s in written.activities if s not in activities]
    ctas = set(CTA.objects.filter(name__startswith=prefix).values_list("name", flat=True))
    lost += [f"CTA {name!r}" for name in written.ctas if name not in ctas]
    # In the audit trail: a later edit of the same field must not hide an earlier one.
    industries = set(
        Company.history.filter(industry__startswith=prefix).values_list("id", "industry")
    )
    lost += [
        f"industry {value!r} on company {pk}"
        for pk, value in written.industries
        if (pk, value) not in industries
    ]
    scores = set(
        Score.history.filter(comment__startswith=prefix).values_list("company_id", "comment")
    )
    lost += [f"score {c!r} on company {pk}" for pk, c in written.scores if (pk, c) not in scores]
    report.lost = lost
    return lost


__all__ = [
    "Form",
    "LoadError",
    "Login",
    "Report",
    "check_local",
    "forms_of",
    "included",
    "run_load",
    "verify_writes",
]
