"""`make bench` (`manage.py bench`): the speed of the pages on a seeded book, against budgets.

Two parts:

1. In process, with Django's test Client logged in as a persona (DEBUG off): each page and
   section is asked `warmup` times, then `requests` times timed; we keep the median and p95
   milliseconds, the SQL queries of one more request and the response bytes. The CSV export
   and import figures come from gainsight_lite.csvio when it is there.
2. Under load: gunicorn (2 workers) on 127.0.0.1 and `wrk` for `load_seconds` on a mix of the
   same pages, then on a minimal authenticated view (`/healthz/auth`, the floor that Django
   itself costs per request), then a few seconds on each page alone so each has its own
   throughput, to compare with a third of the floor's.

Budgets (DESIGN.md, medians in process): C360/R360 header ≤ 15 ms, a section ≤ 20 ms, Cockpit
and lists ≤ 40 ms, search ≤ 50 ms; under load, every page at least a third of the floor's
requests per second. A figure over its budget is marked "OVER".
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from companies.models import Company
from relationships.models import Relationship

HEADER_MS = 15
SECTION_MS = 20
LIST_MS = 40
SEARCH_MS = 50
FLOOR_SHARE = 1 / 3  # every page at least a third of the floor's throughput
PAGE_CONNECTIONS = 2  # wrk connections when a page runs alone: one per gunicorn worker
SEED_HINT = (
    "Seed the large book first (a few minutes): `make bench-seed`, or\n"
    "  DATABASE_URL=sqlite:///bench.sqlite3 .venv/bin/python manage.py migrate\n"
    "  DATABASE_URL=sqlite:///bench.sqlite3 .venv/bin/python manage.py seed_demo --scale large "
    "--force"
)

Progress = Callable[[str], None]


class BenchError(Exception):
    """The benchmark cannot run: the sentence says why and what to do."""


@dataclass
class Target:
    """One page or section to time."""

    name: str
    path: str
    persona: str
    budget_ms: float | None
    htmx: bool = False


@dataclass
class Figure:
    """The in-process figures of one target."""

    name: str
    path: str
    persona: str
    status: int
    median_ms: float
    p95_ms: float
    # This process's CPU time per request (with SQLite: the queries too), which others
    # sharing the machine do not inflate as much as the wall clock.
    cpu_ms: float
    queries: int
    bytes: int
    budget_ms: float | None
    over: bool
    load_rps: float | None = None
    load_p95_ms: float | None = None
    load_errors: int | None = None
    load_over: bool = False


@dataclass
class LoadRun:
    """A wrk run: requests per second, latency and errors."""

    name: str
    rps: float
    p50_ms: float
    p95_ms: float
    requests: int
    errors: int
    seconds: float


@dataclass
class Report:
    started: str
    database: str
    machine: str
    book: dict[str, int]
    figures: list[Figure] = field(default_factory=list)
    loads: list[LoadRun] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def over(self) -> list[str]:
        names = [f.name for f in self.figures if f.over]
        names += [f"{f.name} (load)" for f in self.figures if f.load_over]
        return names


# ---------------------------------------------------------------------------------------
# What to time
# ---------------------------------------------------------------------------------------


def _personas() -> dict[str, User]:
    users = {u.username: u for u in User.objects.filter(username__in=["csm", "partner-a"])}
    if "csm" not in users or "partner-a" not in users:
        raise BenchError(f"The demo logins csm and partner-a are missing. {SEED_HINT}")
    return users


def _subjects(csm: User, partner_user: User) -> tuple[Company, Relationship, Company]:
    """The C360 subject: a scored mid-market company of the csm login inside a group (so the
    default layout with every section kind applies and the hierarchy has both ancestors and
    children), one of its relationships, and a company of partner-a's partner."""
    companies = Company.objects.filter(relationships__isnull=False).order_by("pk")
    mine = companies.filter(csm=csm, health_score__isnull=False)
    company = (
        mine.filter(segment=Company.Segment.MID_MARKET, level__gte=1, rght__gt=F("lft") + 1).first()
        or mine.filter(segment=Company.Segment.MID_MARKET).first()
        or companies.filter(csm=csm).first()
        or companies.first()
    )
    if company is None:
        raise BenchError(f"The database has no company with relationships. {SEED_HINT}")
    relationship = Relationship.objects.filter(company=company).order_by("pk").first()
    assert relationship is not None
    partner = partner_user.partner_membership.partner
    partner_company = Company.objects.filter(managed_by=partner).order_by("pk").first()
    if partner_company is None:
        raise BenchError(f"Partner A manages no company. {SEED_HINT}")
    return company, relationship, partner_company


SECTION_URL = re.compile(r'hx-get="(/(?:companies|relationships)/\d+/sections/(\d+)/)"')


def _sections(client: Client, page: str, label: str, persona: str) -> list[Target]:
    """The page's sections, as its placeholders load them."""
    from layouts.models import Section

    response = client.get(page, secure=True)
    if response.status_code != 200:
        raise BenchError(f"{page} answered {response.status_code} to {persona}.")
    found = SECTION_URL.findall(response.content.decode())
    titles = dict(
        Section.objects.filter(pk__in=[int(pk) for _, pk in found]).values_list("pk", "kind")
    )
    return [
        Target(f"{label} section: {titles.get(int(pk), pk)}", path, persona, SECTION_MS, True)
        for path, pk in found
    ]


def bench_targets(clients: dict[str, Client]) -> list[Target]:
    """Every page and section the benchmark times, with its budget."""
    users = _personas()
    company, relationship, partner_company = _subjects(users["csm"], users["partner-a"])
    c360 = reverse("layouts:company", args=[company.pk])
    r360 = reverse("layouts:relationship", args=[relationship.pk])
    word = company.name.split()[0][:6]
    targets = [Target("C360 header", c360, "csm", HEADER_MS)]
    targets += _sections(clients["csm"], c360, "C360", "csm")
    targets.append(Target("R360 header", r360, "csm", HEADER_MS))
    targets += _sections(clients["csm"], r360, "R360", "csm")
    targets += [
        Target("Cockpit", reverse("success:cockpit"), "csm", LIST_MS),
        Target("Cockpit, anyone", f"{reverse('success:cockpit')}?owner=anyone", "csm", LIST_MS),
        # A partner user's Cockpit starts with everything they may see ("Anyone").
        Target("Partner's Cockpit", reverse("success:cockpit"), "partner-a", LIST_MS),
        Target("Companies list", reverse("companies:list"), "csm", LIST_MS),
        Target("Search", f"{reverse('search')}?q={word}", "csm", SEARCH_MS),
        Target("Search dropdown", f"{reverse('search')}?q={word}", "csm", SEARCH_MS, True),
        Target("Partner's companies list", reverse("companies:list"), "partner-a", LIST_MS),
        Target(
            "Partner's C360 header",
            reverse("layouts:company", args=[partner_company.pk]),
            "partner-a",
            HEADER_MS,
        ),
        Target("Timeline feed", reverse("success:timeline"), "csm", LIST_MS),
        Target("Partner's timeline feed", reverse("success:timeline"), "partner-a", LIST_MS),
        Target("Home", reverse("home"), "csm", LIST_MS),
        Target("Partner's home", reverse("home"), "partner-a", LIST_MS),
    ]
    return targets


# ---------------------------------------------------------------------------------------
# In process
# ---------------------------------------------------------------------------------------


def _host() -> str:
    """A host name the settings accept (not a wildcard pattern)."""
    names = [h for h in settings.ALLOWED_HOSTS if h and not h.startswith((".", "*"))]
    return names[0] if names else "localhost"


def _client(user: User) -> Client:
    # A page that fails is reported with its status (500), not raised: the others still count.
    client = Client(raise_request_exception=False, HTTP_HOST=_host())
    client.force_login(user)
    return client


def _get(client: Client, target: Target) -> tuple[int, int]:
    headers = {"HX-Request": "true"} if target.htmx else {}
    # secure: as production serves it (HTTPS, or plain HTTP would be redirected).
    response = client.get(target.path, headers=headers, secure=True)
    body: Any = response
    chunks = body.streaming_content if response.streaming else [response.content]
    size = sum(len(chunk) for chunk in chunks)
    return response.status_code, size


def p95(samples: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(0.95 * len(ordered)) - 1))]


def time_target(client: Client, target: Target, *, requests: int, warmup: int) -> Figure:
    """Median and p95 of `requests` timed requests after `warmup`, queries of one more."""
    status, size = 0, 0
    for _ in range(warmup):
        status, size = _get(client, target)
    samples, cpu = [], []
    for _ in range(requests):
        started, cpu_started = time.perf_counter(), time.process_time()
        status, size = _get(client, target)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        _get(client, target)
    median = statistics.median(samples)
    return Figure(
        name=target.name,
        path=target.path,
        persona=target.persona,
        status=status,
        median_ms=round(median, 1),
        p95_ms=round(p95(samples), 1),
        cpu_ms=round(statistics.median(cpu), 1),
        queries=len(queries),
        bytes=size,
        budget_ms=target.budget_ms,
        over=status != 200 or (target.budget_ms is not None and median > target.budget_ms),
    )


def _csv_figures(report: Report, progress: Progress, *, export_rows: int, import_rows: int) -> None:
    """The CSV export and import figures, when gainsight_lite.csvio offers them.

    A failure there is reported as a note: the page figures stand on their own.
    """
    try:
        from gainsight_lite import csvio
    except ImportError:
        report.notes.append("CSV export and import: skipped (gainsight_lite.csvio is missing).")
        return
    runs: list[tuple[str, str, int, dict[str, Any]]] = []
    if export_rows:
        admin = User.objects.filter(is_superuser=True).order_by("pk").first()
        runs.append(("csv_export", f"CSV export of {export_rows:,} rows", export_rows,
                     {"user": admin}))  # fmt: skip
    if import_rows:
        runs.append(("csv_import", f"CSV import of {import_rows:,} company rows (rolled back)",
                     import_rows, {}))  # fmt: skip
    for key, label, rows, options in runs:
        function = getattr(csvio, f"bench_{key.removeprefix('csv_')}", None)
        if function is None:
            report.notes.append(f"{label}: skipped (csvio has no bench function for it).")
            continue
        progress(label)
        try:
            report.extras[key] = function(rows=rows, **options)
        except Exception as error:  # another module's failure must not lose the page figures
            report.notes.append(f"{label}: failed ({type(error).__name__}: {error}).")


# ---------------------------------------------------------------------------------------
# Under load: gunicorn and wrk
# ---------------------------------------------------------------------------------------

WRK_SCRIPT = """
local paths = {%(paths)s}
local htmx = {%(htmx)s}
local cookie = "%(cookie)s"
local counter = 0
request = function()
  counter = counter %% #paths + 1
  local headers = {["Cookie"] = cookie, ["Host"] = "%(host)s"}
  if htmx[counter] then headers["HX-Request"] = "true" end
  return wrk.format("GET", paths[counter], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK-JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"p50_us\\": %%d, " ..
    "\\"p95_us\\": %%d, \\"errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def wrk_path() -> str | None:
    """wrk on PATH; installed from Debian when missing and we are root."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, stdin=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env, stdin=subprocess.DEVNULL
    )
    return shutil.which("wrk")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """gunicorn with 2 workers on a free port of 127.0.0.1, DEBUG off, the same database."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        # HTTPS=0: plain HTTP on 127.0.0.1 (no redirect to HTTPS); DEBUG off as in production.
        env = {**os.environ, "DEBUG": "0", "HTTPS": "0"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "gainsight_lite.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],  # fmt: skip
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError("gunicorn stopped at start: run it by hand to see why.")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise BenchError("gunicorn did not start listening within 30 seconds.")

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _fetch(port: int, target: Target, cookie: str) -> int:
    """One request to gunicorn (warming it up); its HTTP status."""
    headers = {"Cookie": cookie, **({"HX-Request": "true"} if target.htmx else {})}
    request = urllib.request.Request(f"http://127.0.0.1:{port}{target.path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _session_cookie(user: User) -> str:
    client = _client(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _lua_list(values: list[str]) -> str:
    return ", ".join(json.dumps(value) for value in values)


def run_wrk(
    wrk: str,
    port: int,
    name: str,
    targets: list[Target],
    cookies: dict[str, str],
    *,
    seconds: int,
    connections: int,
) -> LoadRun:
    """wrk on `targets` in turn (one persona's cookie: the first target's)."""
    cookie = cookies[targets[0].persona]
    script = WRK_SCRIPT % {
        "paths": _lua_list([t.path for t in targets]),
        "htmx": ", ".join("true" if t.htmx else "false" for t in targets),
        "cookie": cookie,
        "host": "127.0.0.1",
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        result = subprocess.run(
            [
                wrk,
                "-t",
                "2",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                handle.name,
                f"http://127.0.0.1:{port}/",
            ],  # fmt: skip
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        os.unlink(handle.name)
    line = next((x for x in result.stdout.splitlines() if x.startswith("WRK-JSON ")), None)
    if line is None:
        raise BenchError(f"wrk gave no result for {name}: {result.stderr.strip()[:300]}")
    data = json.loads(line.removeprefix("WRK-JSON "))
    duration = data["duration_us"] / 1_000_000
    return LoadRun(
        name=name,
        rps=round(data["requests"] / duration, 1) if duration else 0.0,
        p50_ms=round(data["p50_us"] / 1000, 1),
        p95_ms=round(data["p95_us"] / 1000, 1),
        requests=data["requests"],
        errors=data["errors"],
        seconds=round(duration, 1),
    )


def load_runs(
    report: Report,
    targets: list[Target],
    users: dict[str, User],
    progress: Progress,
    *,
    seconds: int,
    page_seconds: int,
    connections: int,
) -> None:
    """The mix and the floor for `seconds` each, then each page alone for `page_seconds`."""
    wrk = wrk_path()
    if wrk is None:
        report.notes.append(
            "Load test skipped: wrk is missing (apt-get install wrk, as root, then run again)."
        )
        return
    cookies = {name: _session_cookie(user) for name, user in users.items()}
    floor_target = Target("Floor: /healthz/auth", reverse("healthz_auth"), "csm", None)
    csm_targets = [t for t in targets if t.persona == "csm"]
    with Gunicorn() as server:
        progress("gunicorn: warming up both workers")
        for target in [floor_target, *targets]:
            for _ in range(2):
                _fetch(server.port, target, cookies[target.persona])
        progress(f"wrk: the mix of {len(csm_targets)} csm pages for {seconds} s")
        report.loads.append(
            run_wrk(
                wrk,
                server.port,
                "Mix of the pages (csm)",
                csm_targets,
                cookies,
                seconds=seconds,
                connections=connections,
            )  # fmt: skip
        )
        progress(f"wrk: the floor for {seconds} s")
        floor = run_wrk(wrk, server.port, floor_target.name, [floor_target], cookies,
                        seconds=seconds, connections=connections)  # fmt: skip
        report.loads.append(floor)
        if page_seconds <= 0:
            return
        # Each page alone with one connection per worker, so that no request of the page
        # before is still queued; compared with the floor run the same way.
        progress(f"wrk: the floor for {page_seconds} s, {PAGE_CONNECTIONS} connections")
        floor = run_wrk(wrk, server.port, f"{floor_target.name}, {PAGE_CONNECTIONS} connections",
                        [floor_target], cookies, seconds=page_seconds,
                        connections=PAGE_CONNECTIONS)  # fmt: skip
        report.loads.append(floor)
        by_name = {f.name: f for f in report.figures}
        for target in targets:
            progress(f"wrk: {target.name} for {page_seconds} s")
            run = run_wrk(wrk, server.port, target.name, [target], cookies,
                          seconds=page_seconds, connections=PAGE_CONNECTIONS)  # fmt: skip
            figure = by_name[target.name]
            figure.load_rps, figure.load_p95_ms, figure.load_errors = (
                run.rps,
                run.p95_ms,
                run.errors,
            )
            figure.load_over = run.errors > 0 or run.rps < floor.rps * FLOOR_SHARE


# ---------------------------------------------------------------------------------------
# The whole run and its outputs
# ---------------------------------------------------------------------------------------


def _book() -> dict[str, int]:
    from gainsight_lite.demo_large import large_counts

    return large_counts()


def _database() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version} ({Path(str(db['NAME'])).name})"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    return f"PostgreSQL {version} ({db['NAME']})"


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()}; load average at the start {load}"
    )


def reference_loop_ms(additions: int = 3_000_000) -> float:
    """CPU ms of a fixed piece of pure Python (`additions` integer additions), the best of
    three: the machine's speed at the moment. A shared VM's changes by two- or threefold over
    a day; this figure next to the pages' tells a slow machine from slow code."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for number in range(additions):
            total += number
        best = min(best, time.process_time() - started)
    return round(best * 1000, 1)


def _unapplied_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def run_bench(
    *,
    requests: int = 30,
    warmup: int = 5,
    load_seconds: int = 30,
    page_seconds: int = 5,
    connections: int = 8,
    export_rows: int = 10_000,
    import_rows: int = 50_000,
    collect_static: bool = True,
    only: str = "",
    progress: Progress = lambda message: None,
) -> Report:
    """Time every target in process, then under load (skipped when `load_seconds` is 0).

    `only`: time just the targets whose name contains it (case ignored), e.g. "Cockpit".
    """
    if settings.DEBUG:
        raise BenchError("DEBUG is on: the benchmark measures the app as it runs in production.")
    name = str(connection.settings_dict["NAME"])
    in_memory = getattr(connection, "is_in_memory_db", lambda: False)()
    if connection.vendor == "sqlite" and not in_memory and not Path(name).exists():
        raise BenchError(f"There is no database at {name}. {SEED_HINT}")
    pending = _unapplied_migrations()
    if pending:
        raise BenchError(
            f"The database lacks {len(pending)} migrations (e.g. {pending[0]}): run "
            "`manage.py migrate` with the same DATABASE_URL first."
        )
    if not Company.objects.exists():
        raise BenchError(f"The database has no companies. {SEED_HINT}")
    users = _personas()
    # As production serves it: hashed, compressed static files from STATIC_ROOT.
    if collect_static:
        progress("collectstatic")
        call_command("collectstatic", interactive=False, verbosity=0)
    clients = {name: _client(user) for name, user in users.items()}
    report = Report(
        started=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        database=_database(),
        machine=_machine(),
        book=_book(),
    )
    speed_before = reference_loop_ms()
    targets = bench_targets(clients)
    if only:
        targets = [t for t in targets if only.lower() in t.name.lower()]
        if not targets:
            raise BenchError(f"No page's name contains {only!r}.")
    for target in targets:
        progress(f"{target.name}: {target.path}")
        report.figures.append(
            time_target(clients[target.persona], target, requests=requests, warmup=warmup)
        )
    speed = {"before_ms": speed_before, "after_ms": reference_loop_ms()}
    report.extras["reference_loop"] = speed
    report.notes.append(
        "Machine speed: the reference loop (3,000,000 additions in Python, CPU, best of 3) "
        f"took {speed['before_ms']:g} ms before the pages and {speed['after_ms']:g} ms after "
        "(lower is faster; every figure above scales with it)."
    )
    if export_rows or import_rows:
        _csv_figures(report, progress, export_rows=export_rows, import_rows=import_rows)
    if load_seconds > 0:
        # Others sharing the machine skew every figure: the load average says how much.
        report.notes.append(
            "Load average before the load test: "
            + ", ".join(f"{value:.1f}" for value in os.getloadavg())
        )
        load_runs(report, targets, users, progress, seconds=load_seconds,
                  page_seconds=page_seconds, connections=connections)  # fmt: skip
    return report


def _cell(value: float | None, over: bool = False) -> str:
    """A figure for the markdown table, in bold with OVER when it misses its budget."""
    if value is None:
        return "–"
    text = f"{value:g}"
    return f"**{text} OVER**" if over else text


def markdown(report: Report) -> str:
    """The report as markdown tables (the README's Performance section takes them as they are)."""
    lines = [
        f"Run {report.started} on {report.database}; {report.machine}.",
        "",
        "Book: " + ", ".join(f"{count:,} {kind}" for kind, count in report.book.items()) + ".",
        "",
        "| Page | Persona | Median ms | p95 ms | CPU ms | Budget ms | Queries | KB "
        "| req/s alone | p95 ms alone |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]  # fmt: skip
    for f in report.figures:
        status = "" if f.status == 200 else f" (HTTP {f.status})"
        lines.append(
            f"| {f.name}{status} | {f.persona} | {_cell(f.median_ms, f.over)} | "
            f"{f.p95_ms:g} | {f.cpu_ms:g} | {_cell(f.budget_ms)} | {f.queries} | "
            f"{f.bytes / 1024:.1f} | "
            f"{_cell(f.load_rps, f.load_over)} | {_cell(f.load_p95_ms)} |"
        )
    if report.loads:
        lines += [
            "",
            "| Load (gunicorn, 2 workers; wrk) | req/s | p50 ms | p95 ms | Requests | Errors |",
            "|---|--:|--:|--:|--:|--:|",
        ]
        for run in report.loads:
            lines.append(
                f"| {run.name} ({run.seconds:g} s) | {run.rps:g} | {run.p50_ms:g} | "
                f"{run.p95_ms:g} | {run.requests} | {run.errors} |"
            )
        floors = [r for r in report.loads if r.name.startswith("Floor")]
        floor = floors[-1] if floors else None
        if floor is not None:
            lines += [
                "",
                "A page alone must reach a third of the floor: "
                f"{floor.rps * FLOOR_SHARE:.0f} req/s.",
            ]
    for key, figures in report.extras.items():
        described = ", ".join(f"{name} {value}" for name, value in figures.items())
        lines += ["", f"{key.replace('_', ' ')}: {described}."]
    if report.notes:
        lines += ["", *(f"- {note}" for note in report.notes)]
    over = report.over
    figures = len(report.figures) * (2 if report.loads else 1)
    lines += [
        "",
        f"Over budget: {len(over)} of {figures} figures (marked OVER above)."
        if over
        else "Every figure is within budget.",
    ]
    return "\n".join(lines) + "\n"


def write_results(report: Report, folder: Path) -> tuple[Path, Path]:
    """Write the report as JSON and markdown (a dated pair and `latest.*`)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    vendor = connection.vendor
    data = json.dumps(asdict(report) | {"over": report.over}, indent=2)
    text = markdown(report)
    json_path = folder / f"bench-{vendor}-{stamp}.json"
    md_path = folder / f"bench-{vendor}-{stamp}.md"
    json_path.write_text(data)
    md_path.write_text(text)
    (folder / f"latest-{vendor}.json").write_text(data)
    (folder / f"latest-{vendor}.md").write_text(text)
    return json_path, md_path


def table(report: Report) -> str:
    """The figures as a plain-text table for the terminal."""
    rows = [("Page", "Persona", "Median", "p95", "CPU", "Budget", "Queries", "KB", "req/s", "")]
    for f in report.figures:
        flag = "OVER" if f.over or f.load_over else ""
        rows.append(
            (
                f.name if f.status == 200 else f"{f.name} (HTTP {f.status})",
                f.persona,
                f"{f.median_ms:g}",
                f"{f.p95_ms:g}",
                f"{f.cpu_ms:g}",
                f"{f.budget_ms:g}" if f.budget_ms else "-",
                str(f.queries),
                f"{f.bytes / 1024:.1f}",
                f"{f.load_rps:g}" if f.load_rps is not None else "-",
                flag,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = [
        "  ".join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in rows
    ]
    for run in report.loads:
        out.append(
            f"{run.name}: {run.rps:g} req/s, p50 {run.p50_ms:g} ms, p95 {run.p95_ms:g} ms, "
            f"{run.errors} errors over {run.seconds:g} s"
        )
    return "\n".join(out)
