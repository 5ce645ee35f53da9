"""`python -m bench --varied`: many different requests, not one URL repeated.

Real users rarely ask the same thing twice, and every write to the pool empties the
result cache, so one URL repeated hundreds of times measures the cache, not the reads.
This run:

1. generates, from a fixed seed, `--paths-per-class` distinct paths for each class
   (project detail, list page of 50, filtered list, search, stats; the admin's
   changelist with and without filters and its dashboard), with values drawn from the
   pool's reference data (`Reference`) and the seed's vocabulary (`bench/seed.py`);
2. starts gunicorn (`registry.wsgi`, `--workers`, bench settings: throttling lifted) and
   requests every path once, 2 at a time; a path that does not answer 200 is reported and
   dropped (loudly: the count per status is in the output and the results);
3. for each result-cache setting (`REGISTRY_RESULT_CACHE` off, then on; one run when the
   setting no longer exists) and each mode (quiet, then with one write per second through
   the API by an officer's token), on a fresh gunicorn: each class with one connection,
   each path once in a fixed shuffled order (bounded by `--duration` per class), and the
   default ModelViewSet baseline on a few pages for the at-least-tenfold ratio;
4. writes `bench/results/varied-<N>.json` (N: projects in the pool) and the tables of
   bench/README.md between the `varied` markers (one table per pool size measured).

The load driver is this process (`http.client`, one connection, a new TCP connection per
request as gunicorn's sync workers close each one), separate from gunicorn's. The load
average of the machine is sampled during every run and reported beside it.
"""

import contextlib
import http.client
import itertools
import json
import random
import re
import secrets
import statistics
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
README = BENCH_DIR / "README.md"
START = "<!-- varied:start -->"
END = "<!-- varied:end -->"

SEED = 14
PAGE_SIZE = 50

# Classes in the order they run, their label and the p99 the issue asks for at 1,000,000
# projects (ms); the admin's pages meet their API counterparts' targets.
CLASSES = {
    "detail": ("project detail", 30),
    "list": ("list page of 50", 60),
    "filtered": ("filtered list (any combination)", 100),
    "search": ("search (any words)", 150),
    "stats": ("stats summary, balance and flow (any selection)", 200),
    "admin_list": ("admin changelist, no filter", 60),
    "admin_filtered": ("admin changelist, filtered", 100),
    "admin_dashboard": ("admin dashboard (any selection)", 200),
}
API_CLASSES = ("detail", "list", "filtered", "search", "stats")
ADMIN_CLASSES = ("admin_list", "admin_filtered", "admin_dashboard")

# Words people type that match much of the pool: the worst case of a substring search.
COMMON_ZH = ["合作", "项目", "中", "东盟", "国际", "建设", "物流", "中国", "培训", "交流", "跨境"]
COMMON_EN = ["in", "the", "co", "a", "of", "and", "ltd", "china", "project", "port", "trade"]


# --- Reference data ---------------------------------------------------------------------


@dataclass
class Reference:
    """What the generated paths may name, read from the pool (ids, codes) and the code
    (choices). Everything is sorted, so the same pool and seed give the same paths."""

    project_ids: tuple[int, int]  # smallest and largest project id
    projects: int
    statuses: list[str]
    kinds: list[str]
    risks: list[str]
    sectors: list[str]
    countries: list[str]
    country_groups: list[str]
    lead_units: list[int]
    partners: list[int]
    first_created: date
    last_created: date
    orderings: list[str]
    filter_names: list[str]
    stats_params: list[str]
    # Sortable columns of the changelist (`ProjectAdmin.list_display`: code, kind, status,
    # next review), by their 1-based index as the admin's `o` names them.
    admin_columns: list[str] = field(default_factory=lambda: ["1", "3", "4", "9"])
    admin_page_size: int = 100


def load_reference() -> Reference:
    from django.db.models import Exists, Max, Min, OuterRef

    from bench import seed
    from partners.models import Partner
    from projects.api.filters import ProjectFilter
    from projects.models import Kind, Participation, Project, RiskLevel, Status
    from projects.reporting.dashboard_form import DashboardFilterForm
    from registry.models import Country, CountryGroup, Sector

    bounds = Project.objects.aggregate(
        low=Min("id"), high=Max("id"), first=Min("created_at"), last=Max("created_at")
    )
    if bounds["low"] is None:
        raise RuntimeError("the pool is empty: seed it first (python bench/seed.py)")
    # The countries the seed uses (a DISTINCT over the links would scan millions of rows),
    # plus a few no project names: a filter matching nothing is a path users take too.
    used = sorted(seed.PROJECT_COUNTRIES)
    others = list(Country.objects.exclude(pk__in=used).order_by("pk").values_list("pk", flat=True))
    countries = used + others[:: max(1, len(others) // 6)][:6]
    leading = Project.objects.filter(lead_unit=OuterRef("pk"))
    taking_part = Participation.objects.filter(partner=OuterRef("pk"))
    ordering = ProjectFilter.base_filters.get("ordering")
    orderings = sorted(getattr(ordering, "param_map", {}) or {})
    return Reference(
        project_ids=(bounds["low"], bounds["high"]),
        projects=Project.objects.count(),
        statuses=sorted(Status.values),
        kinds=sorted(Kind.values),
        risks=sorted(RiskLevel.values),
        sectors=sorted(Sector.objects.values_list("code", flat=True)),
        countries=countries,
        country_groups=sorted(CountryGroup.objects.values_list("code", flat=True)),
        lead_units=sorted(Partner.objects.filter(Exists(leading)).values_list("pk", flat=True)),
        partners=sorted(Partner.objects.filter(Exists(taking_part)).values_list("pk", flat=True)),
        first_created=bounds["first"].astimezone(UTC).date(),
        last_created=bounds["last"].astimezone(UTC).date(),
        orderings=orderings,
        filter_names=sorted(ProjectFilter.parameter_names()),
        # The dashboard's selection: the figures take every list filter too, but people
        # choose these.
        stats_params=list(DashboardFilterForm.base_fields),
    )


def project_codes(reference: Reference, rng: random.Random, wanted: int) -> list[str]:
    """`wanted` distinct codes of existing projects, drawn by id (ids of a pool seeded by
    COPY are dense; gaps are skipped)."""
    from projects.models import Project

    low, high = reference.project_ids
    codes: dict[int, str] = {}
    for _ in range(50):
        if len(codes) >= wanted:
            break
        batch = {rng.randint(low, high) for _ in range(2 * (wanted - len(codes)) + 10)}
        found = dict(Project.objects.filter(pk__in=batch).values_list("pk", "code"))
        codes.update(found)
    return [codes[pk] for pk in sorted(codes)][:wanted]


# --- Values of each filter --------------------------------------------------------------


def _day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _range(rng, name_low, name_high, first, last, *, as_time=False) -> dict:
    """One end, the other or both (the second after the first)."""
    low = _day(rng, first, last)
    high = low + timedelta(days=rng.choice([7, 30, 90, 365, 730]))
    shape = rng.choice(["low", "high", "both", "both"])

    def text(day: date) -> str:
        return f"{day.isoformat()}T00:00:00Z" if as_time else day.isoformat()

    found = {}
    if shape in {"low", "both"}:
        found[name_low] = text(low)
    if shape in {"high", "both"}:
        found[name_high] = text(high if shape == "both" else _day(rng, first, last))
    return found


AMOUNTS = [10_000, 50_000, 100_000, 500_000, 1_000_000, 5_000_000, 20_000_000, 1_000_000_000]


def _amounts(rng) -> dict:
    low, high = sorted(rng.sample(AMOUNTS, 2))
    shape = rng.choice(["low", "high", "both"])
    return {
        **({"value_min": str(low)} if shape in {"low", "both"} else {}),
        **({"value_max": str(high)} if shape in {"high", "both"} else {}),
    }


def _ordering(rng, reference: Reference) -> str:
    names = rng.sample(reference.orderings, rng.choice([1, 1, 2]))
    return ",".join(("-" if rng.random() < 0.5 else "") + name for name in names)


def list_filter_values(name: str, rng: random.Random, ref: Reference) -> dict | None:
    """Query parameters for one filter of the list (`ProjectFilter`), or None for a filter
    this harness does not know (reported, never guessed)."""
    planned_first, planned_last = ref.first_created, ref.last_created + timedelta(days=240)
    makers = {
        "status": lambda: {"status": ",".join(rng.sample(ref.statuses, rng.choice([1, 1, 2, 3])))},
        "kind": lambda: {"kind": rng.choice(ref.kinds)},
        "risk": lambda: {"risk": ",".join(rng.sample(ref.risks, rng.choice([1, 1, 2])))},
        "sector": lambda: {"sector": rng.choice(ref.sectors)},
        "country": lambda: {"country": rng.choice(ref.countries)},
        "country_group": lambda: {"country_group": rng.choice(ref.country_groups)},
        "lead_unit": lambda: {"lead_unit": str(rng.choice(ref.lead_units))},
        "partner": lambda: {"partner": str(rng.choice(ref.partners))},
        "value_min": lambda: _amounts(rng),
        "value_max": lambda: _amounts(rng),
        "planned_start_after": lambda: _range(
            rng, "planned_start_after", "planned_start_before", planned_first, planned_last
        ),
        "planned_start_before": lambda: _range(
            rng, "planned_start_after", "planned_start_before", planned_first, planned_last
        ),
        "planned_end_after": lambda: _range(
            rng, "planned_end_after", "planned_end_before", planned_first, planned_last + _YEARS
        ),
        "planned_end_before": lambda: _range(
            rng, "planned_end_after", "planned_end_before", planned_first, planned_last + _YEARS
        ),
        "created_after": lambda: _range(
            rng,
            "created_after",
            "created_before",
            ref.first_created,
            ref.last_created,
            as_time=True,
        ),
        "created_before": lambda: _range(
            rng,
            "created_after",
            "created_before",
            ref.first_created,
            ref.last_created,
            as_time=True,
        ),
        "updated_since": lambda: {
            "updated_since": f"{_day(rng, ref.first_created, ref.last_created)}T00:00:00Z"
        },
        "review_overdue": lambda: {"review_overdue": rng.choice(["true", "false"])},
        "ordering": lambda: {"ordering": _ordering(rng, ref)},
        # The figures' period, as the dashboard's form names it.
        "period_start": lambda: _range(
            rng, "period_start", "period_end", ref.first_created, ref.last_created
        ),
        "period_end": lambda: _range(
            rng, "period_start", "period_end", ref.first_created, ref.last_created
        ),
    }
    maker = makers.get(name)
    return maker() if maker else None


_YEARS = timedelta(days=1500)
# Filters not combined in the filtered class: the search has its class, pages are chosen.
NOT_FILTERS = {"search", "page", "page_size", "cursor", "format"}


# --- Vocabulary for the search ----------------------------------------------------------


def vocabulary() -> tuple[list[str], list[str]]:
    """Chinese and English words from the seed's titles and names, with the pieces people
    type (two characters of a Chinese term, one word of an English one) and the common
    short words that match much of the pool."""
    from bench import seed

    chinese, english = set(COMMON_ZH), set(COMMON_EN)
    pairs = [(zh, en) for zh, en, *_ in (*seed.PLACES, *seed.TOPICS, *seed.FORMS)]
    pairs += list(seed.CITIES) + list(seed.TRADES)
    pairs += [(zh, en) for _, zh, en in (*seed.DOMESTIC_KINDS, *seed.FOREIGN_KINDS)]
    for zh, en in pairs:
        zh = zh.replace("—", "")
        chinese.add(zh)
        chinese.update(zh[i : i + 2] for i in range(len(zh) - 1))
        english.update(w.lower() for w in re.findall(r"[A-Za-z]{2,}", en))
        english.add(en.lower())
    return sorted(chinese), sorted(english)


def search_text(rng: random.Random, chinese: list[str], english: list[str]) -> str:
    words = rng.choices([1, 2, 3], weights=[45, 35, 20])[0]
    language = rng.choice(["zh", "en", "mixed"])
    picked = []
    for _ in range(words):
        pool = (
            chinese
            if (language == "zh" or (language == "mixed" and rng.random() < 0.5))
            else english
        )
        picked.append(rng.choice(pool))
    return " ".join(picked)[:100]


# --- Paths per class ---------------------------------------------------------------------


# Ranges whose two ends may come from two filters' values: the lower end first.
RANGES = [
    ("period_start", "period_end"),
    ("value_min", "value_max"),
    ("planned_start_after", "planned_start_before"),
    ("planned_end_after", "planned_end_before"),
    ("created_after", "created_before"),
]


def query_string(params: dict) -> str:
    for low, high in RANGES:
        if low in params and high in params and _key(params[high]) < _key(params[low]):
            params[low], params[high] = params[high], params[low]
    return urllib.parse.urlencode(params)


def _key(value: str):
    return float(value) if value.replace(".", "", 1).isdigit() else value


def _distinct(make, wanted: int, tries: int | None = None) -> list[str]:
    found: dict[str, None] = {}
    for _ in range(tries or wanted * 50):
        if len(found) >= wanted:
            break
        found.setdefault(make(), None)
    return list(found)


def _page(rng: random.Random, last: int) -> int:
    """Mostly the first pages, some deeper, a few anywhere up to the last."""
    where = rng.random()
    if where < 0.6:
        return rng.randint(1, min(10, last))
    if where < 0.9:
        return rng.randint(1, min(200, last))
    return rng.randint(1, last)


def generate(
    reference: Reference, per_class: int, seed: int = SEED, classes=None, admin_per_class=None
) -> dict:
    """{class: [path, …]}: `per_class` distinct paths per class (`admin_per_class` for the
    admin's pages, by default the same; fewer only when the pool cannot give that many),
    the same for the same pool, seed and code. Also a list of notes (filters the harness
    does not know)."""
    classes = list(classes or CLASSES)
    admin_per_class = per_class if admin_per_class is None else admin_per_class
    notes: list[str] = []
    paths: dict[str, list[str]] = {}

    def rng_for(name: str) -> random.Random:
        return random.Random(f"{seed}:{name}")

    last_page = max(1, -(-reference.projects // PAGE_SIZE))
    filter_names = [n for n in reference.filter_names if n not in NOT_FILTERS]
    unknown = [
        n for n in filter_names if list_filter_values(n, random.Random(0), reference) is None
    ]
    if unknown:
        notes.append(f"list filters this harness does not know (not generated): {unknown}")
    filter_names = [n for n in filter_names if n not in unknown and n != "ordering"]
    stats_names = [
        n for n in reference.stats_params if list_filter_values(n, random.Random(0), reference)
    ]
    if set(reference.stats_params) - set(stats_names):
        notes.append(
            "stats parameters this harness does not know (not generated): "
            f"{sorted(set(reference.stats_params) - set(stats_names))}"
        )
    chinese, english = vocabulary()

    if "detail" in classes:
        rng = rng_for("detail")
        paths["detail"] = [
            f"/api/v1/projects/{code}/" for code in project_codes(reference, rng, per_class)
        ]

    if "list" in classes:
        rng = rng_for("list")

        def a_list_page():
            params = {"page_size": PAGE_SIZE, "page": _page(rng, last_page)}
            if reference.orderings and rng.random() < 0.35:
                params["ordering"] = _ordering(rng, reference)
            return "/api/v1/projects/?" + query_string(params)

        paths["list"] = _distinct(a_list_page, per_class)

    if "filtered" in classes:
        rng = rng_for("filtered")

        def a_filtered_page():
            params = {"page_size": PAGE_SIZE}
            for name in rng.sample(filter_names, rng.choice([1, 1, 2, 2, 3, 4])):
                params.update(list_filter_values(name, rng, reference))
            if reference.orderings and rng.random() < 0.25:
                params["ordering"] = _ordering(rng, reference)
            if rng.random() < 0.15:
                params["page"] = rng.randint(2, 3)
            return "/api/v1/projects/?" + query_string(params)

        paths["filtered"] = _distinct(a_filtered_page, per_class)

    if "search" in classes:
        rng = rng_for("search")

        def a_search():
            params = {"page_size": PAGE_SIZE, "search": search_text(rng, chinese, english)}
            if reference.orderings and rng.random() < 0.1:
                params["ordering"] = _ordering(rng, reference)
            return "/api/v1/projects/?" + query_string(params)

        paths["search"] = _distinct(a_search, per_class)

    def a_selection(rng) -> dict:
        """A selection of the dashboard: each of its fields set or left at 'all'."""
        params = {}
        for name in stats_names:
            if name not in params and rng.random() < 0.4:
                params.update(list_filter_values(name, rng, reference))
        return params

    if "stats" in classes:
        rng = rng_for("stats")

        def a_stats():
            endpoint = rng.choice(["summary", "balance", "flow"])
            params = a_selection(rng)
            return f"/api/v1/stats/{endpoint}/" + (f"?{query_string(params)}" if params else "")

        paths["stats"] = _distinct(a_stats, per_class)

    admin_last = max(1, -(-reference.projects // reference.admin_page_size))
    if "admin_list" in classes:
        rng = rng_for("admin_list")

        def an_admin_page():
            params = {"p": _page(rng, admin_last)}
            if rng.random() < 0.35:
                columns = rng.sample(reference.admin_columns, rng.choice([1, 1, 2]))
                params["o"] = ".".join(("-" if rng.random() < 0.5 else "") + c for c in columns)
            return "/admin/projects/project/?" + query_string(params)

        paths["admin_list"] = _distinct(an_admin_page, admin_per_class)

    if "admin_filtered" in classes:
        rng = rng_for("admin_filtered")
        planned_last = reference.last_created + timedelta(days=240)
        makers = {
            "status__exact": lambda: {"status__exact": rng.choice(reference.statuses)},
            "kind__exact": lambda: {"kind__exact": rng.choice(reference.kinds)},
            "risk_level__exact": lambda: {"risk_level__exact": rng.choice(reference.risks)},
            "sector": lambda: {"sector": rng.choice(reference.sectors)},
            "country": lambda: {"country": rng.choice(reference.countries)},
            "country_group": lambda: {"country_group": rng.choice(reference.country_groups)},
            "lead_unit": lambda: {"lead_unit": str(rng.choice(reference.lead_units))},
            "partner": lambda: {"partner": str(rng.choice(reference.partners))},
            "estimated_value": lambda: {
                k.replace("value_min", "estimated_value__gte").replace(
                    "value_max", "estimated_value__lte"
                ): v
                for k, v in _amounts(rng).items()
            },
            "planned_start": lambda: _range(
                rng,
                "planned_start__gte",
                "planned_start__lte",
                reference.first_created,
                planned_last,
            ),
            "created_at": lambda: _range(
                rng,
                "created_at__date__gte",
                "created_at__date__lte",
                reference.first_created,
                reference.last_created,
            ),
            "q": lambda: {"q": search_text(rng, chinese, english)},
        }

        def an_admin_filtered():
            params = {}
            for name in rng.sample(sorted(makers), rng.choice([1, 1, 2, 2, 3])):
                params.update(makers[name]())
            if rng.random() < 0.15:
                params["p"] = 2
            return "/admin/projects/project/?" + query_string(params)

        paths["admin_filtered"] = _distinct(an_admin_filtered, admin_per_class)

    if "admin_dashboard" in classes:
        rng = rng_for("admin_dashboard")

        def a_dashboard():
            params = a_selection(rng)
            return "/admin/dashboard/" + (f"?{query_string(params)}" if params else "")

        paths["admin_dashboard"] = _distinct(a_dashboard, admin_per_class)
    return {"paths": paths, "notes": notes}


# --- HTTP --------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused, reset, timed out)
    ms: float
    size: int
    error: str = ""


class Client:
    """One client, one request at a time; a fresh connection per request (gunicorn's sync
    workers close each connection after its response)."""

    def __init__(self, port: int, headers: dict, *, timeout: float = 300):
        self.port = port
        self.headers = headers
        self.timeout = timeout

    def request(self, method: str, path: str, body: bytes | None = None, headers=None) -> tuple:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            connection.request(method, path, body=body, headers={**self.headers, **(headers or {})})
            response = connection.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            connection.close()

    def get(self, path: str) -> Answer:
        started = time.perf_counter()
        try:
            status, _, data = self.request("GET", path)
        except (OSError, http.client.HTTPException) as error:
            return Answer(0, (time.perf_counter() - started) * 1000, 0, type(error).__name__)
        return Answer(status, (time.perf_counter() - started) * 1000, len(data))


def cookies_of(headers: list[tuple[str, str]]) -> dict:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key.strip()] = rest.split(";", 1)[0]
    return found


def admin_session(port: int, username: str, password: str) -> dict:
    """Log in through the admin's login form (CSRF cookie and token, as a browser does);
    the headers that carry the session."""
    browser = Client(port, {"Accept": "text/html", "Host": "127.0.0.1"})
    status, headers, body = browser.request("GET", "/admin/login/?next=/admin/")
    cookies = cookies_of(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not token or "csrftoken" not in cookies:
        raise RuntimeError(f"admin login form: {status}, no CSRF token")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
    ).encode()
    status, headers, _ = browser.request(
        "POST",
        "/admin/login/",
        body=form,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Referer": f"http://127.0.0.1:{port}/admin/login/",
        },
    )
    session = cookies_of(headers).get("sessionid")
    if status != 302 or not session:
        raise RuntimeError(f"admin login refused ({status})")
    return {
        "Accept": "text/html",
        "Host": "127.0.0.1",
        "Cookie": f"sessionid={session}; csrftoken={cookies['csrftoken']}",
    }


# --- Users ---------------------------------------------------------------------------------


def bench_users() -> dict:
    """The reader (bench-manager: token for the API, staff session for the admin) and the
    writer (bench-officer: an officer acting for a domestic lead unit, with a token)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from bench import api
    from partners.models import Membership, Partner

    token, note = api.bench_token()
    manager = get_user_model().objects.get(username=api.BENCH_USER)
    password = secrets.token_urlsafe(24)
    manager.set_password(password)
    manager.is_staff = True
    manager.save(update_fields=["password", "is_staff"])

    officer, _ = get_user_model().objects.get_or_create(
        username="bench-officer", defaults={"email": "bench-officer@example.org"}
    )
    officer.groups.add(Group.objects.get(name="officer"))
    unit = Partner.objects.filter(country_id="CN").order_by("pk").first()
    Membership.objects.get_or_create(user=officer, partner=unit)
    officer_token = issue_token("bench-officer")
    return {
        "token": token,
        "auth": note,
        "admin": (api.BENCH_USER, password),
        "officer_token": officer_token,
        "officer_unit": unit.pk,
    }


def issue_token(username: str) -> str | None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("issue_token", username, "--name", "bench", "--days", "1", stdout=out,
                     stderr=StringIO())  # fmt: skip
    except Exception:
        return None
    lines = [line.strip() for line in out.getvalue().splitlines() if line.strip()]
    return lines[-1] if lines else None


# --- Writer and load sampler ---------------------------------------------------------------


class Writer(threading.Thread):
    """One real write per second through the API, as an officer: a new draft, then a
    change to it (PATCH with its ETag), and so on. A write taking longer than a second
    delays the next; missed seconds are not caught up."""

    def __init__(self, port: int, token: str, unit: int, sector: str, country: str):
        super().__init__(daemon=True)
        self.client = Client(
            port,
            {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Host": "127.0.0.1",
            },
        )
        self.unit, self.sector, self.country = unit, sector, country
        self.stopping = threading.Event()
        self.times: list[float] = []
        self.statuses: Counter = Counter()
        self.last: tuple[str, str] | None = None  # code, ETag of the last draft
        self.count = 0

    def write(self) -> int:
        self.count += 1
        stamp = f"{datetime.now(UTC):%H:%M:%S} #{self.count}"
        if self.last and self.count % 2 == 0:
            code, etag = self.last
            body = {"title_en": f"Bench draft, changed {stamp}"}
            status, headers, data = self.client.request(
                "PATCH", f"/api/v1/projects/{code}/", json.dumps(body).encode(),
                {"If-Match": etag},
            )  # fmt: skip
        else:
            body = {
                "title_zh": f"压测草稿 {stamp}",
                "title_en": f"Bench draft {stamp}",
                "kind": "project",
                "lead_unit": self.unit,
                "countries": [{"country": self.country, "share": 100}],
                "sectors": [{"sector": self.sector, "share": 100}],
            }
            status, headers, data = self.client.request(
                "POST", "/api/v1/projects/", json.dumps(body).encode()
            )
        if status in (200, 201):
            etag = {k.lower(): v for k, v in headers}.get("etag")
            self.last = (json.loads(data)["code"], etag) if etag else None
        else:
            self.last = None
            self.error = data[:300].decode(errors="replace")
        return status

    def run(self):
        next_at = time.monotonic()
        while not self.stopping.is_set():
            started = time.perf_counter()
            try:
                status = self.write()
            except (OSError, http.client.HTTPException, ValueError) as error:
                status = type(error).__name__
            self.times.append((time.perf_counter() - started) * 1000)
            self.statuses[status] += 1
            next_at = max(next_at + 1, time.monotonic())
            self.stopping.wait(max(0, next_at - time.monotonic()))

    def stop(self):
        self.stopping.set()
        self.join(timeout=600)


class LoadSampler(threading.Thread):
    """The machine's 1-minute load average every 2 s while a run lasts."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            with contextlib.suppress(OSError, ValueError):
                self.samples.append(float(Path("/proc/loadavg").read_text().split()[0]))
            self.stopping.wait(2)

    def stop(self) -> dict:
        self.stopping.set()
        self.join()
        if not self.samples:
            return {}
        return {"mean": round(statistics.fmean(self.samples), 2), "max": max(self.samples)}


# --- Measuring ----------------------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)]


def summarize(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 1),
        "p90": round(percentile(values, 90), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
        "mean": round(statistics.fmean(values), 1),
    }


def check_paths(port: int, headers: dict, paths: list[str], *, connections: int = 2) -> dict:
    """Each path once, `connections` at a time: the ones answering 200 and the others by
    status (0: no answer)."""
    client = Client(port, headers)
    with ThreadPoolExecutor(max_workers=connections) as pool:
        answers = list(pool.map(client.get, paths))
    good = [p for p, a in zip(paths, answers, strict=True) if a.status == 200]
    bad = {p: a.status for p, a in zip(paths, answers, strict=True) if a.status != 200}
    return {
        "good": good,
        "bad": bad,
        "times": summarize([a.ms for a in answers if a.status == 200]),
    }


def timed_run(port: int, headers: dict, paths: list[str], *, duration: float, requests: int,
              seed: int = SEED) -> dict:  # fmt: skip
    """One connection: the paths in a fixed shuffled order (cycling if `requests` is more
    than the paths), until `requests` answers or `duration` seconds."""
    order = list(paths)
    random.Random(seed).shuffle(order)
    client = Client(port, headers)
    times, statuses, slowest = [], Counter(), []
    deadline = time.monotonic() + duration
    for path in itertools.islice(itertools.cycle(order), requests):
        if time.monotonic() >= deadline:
            break
        answer = client.get(path)
        times.append(answer.ms)
        statuses[answer.status] += 1
        slowest.append((answer.ms, path, answer.status))
    slowest.sort(reverse=True)
    return {
        **summarize(times),
        "distinct": min(len(times), len(order)),
        "statuses": {str(k): v for k, v in statuses.items()},
        "slowest": [{"ms": round(ms, 1), "path": p, "status": s} for ms, p, s in slowest[:5]],
    }


def warm_up(port: int, headers: dict, paths: list[str], workers: int) -> None:
    """Each worker imports, connects and fills its reference lookups before timing
    (paths outside the measured sets)."""
    client = Client(port, headers)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(client.get, paths * (3 * workers)))


def result_cache_setting() -> bool:
    from django.conf import settings

    return hasattr(settings, "REGISTRY_RESULT_CACHE")


def run(
    *,
    per_class: int = 300,
    admin_per_class: int | None = None,
    duration: float = 60,
    requests: int | None = None,
    workers: int = 2,
    timeout: int = 120,
    write: bool = True,
    cache_modes: tuple[str, ...] = ("off", "on"),
    classes: tuple[str, ...] | None = None,
    baseline_pages: int = 20,
    seed: int = SEED,
    log=print,
) -> dict:
    import os

    from django.db import connection

    from bench import api

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / "gunicorn.log").write_text("")
    classes = tuple(classes or CLASSES)
    started = datetime.now().astimezone()
    reference = load_reference()
    log(f"Pool: {reference.projects:,} projects; generating {per_class} paths per class …")
    generated = generate(reference, per_class, seed, classes, admin_per_class)
    for note in generated["notes"]:
        log(f"NOTE: {note}")
    paths = generated["paths"]
    users = bench_users()
    if users["token"] is None:
        raise RuntimeError(f"no API token for the reader: {users['auth']}")
    api_headers = {
        "Accept": "application/json",
        "Host": "127.0.0.1",
        "Authorization": f"Bearer {users['token']}",
    }
    has_setting = result_cache_setting()
    if not has_setting:
        log("NOTE: REGISTRY_RESULT_CACHE no longer exists: one run per mode, no cache switch.")
        cache_modes = ("n/a",)
    results = {
        "kind": "varied",
        "date": started.isoformat(timespec="seconds"),
        "machine": api.machine_info(),
        "pool": {"projects": reference.projects},
        "settings": {
            "seed": seed,
            "paths_per_class": per_class,
            "admin_paths_per_class": admin_per_class,
            "duration_s": duration,
            "requests": requests,
            "gunicorn_workers": workers,
            "gunicorn_timeout": timeout,
            "connections": 1,
            "cache_modes": list(cache_modes),
            "write": write,
            "result_cache_setting": has_setting,
        },
        "notes": list(generated["notes"]),
        "classes": {},
        "runs": [],
    }
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        results["machine"]["statement_timeout"] = cursor.fetchone()[0]
    warm_paths = ["/api/v1/projects/?page_size=1", "/api/v1/stats/summary/?period_start=1990-01-01"]

    def server(cache: str):
        env_cache = {"off": "0", "on": "1"}.get(cache)
        if env_cache is not None:
            os.environ["REGISTRY_RESULT_CACHE"] = env_cache
        return api.Gunicorn(workers, timeout=timeout)

    if any(c in ADMIN_CLASSES for c in classes):
        # DEBUG off: the admin's pages name their static files through the manifest, as
        # after a deployment's collectstatic (into STATIC_ROOT, which git ignores).
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)
    # 1. Every path answers 200, or is dropped (loudly).
    with server(cache_modes[0]) as gunicorn:
        admin_headers = None
        if any(c in ADMIN_CLASSES for c in classes):
            try:
                admin_headers = admin_session(gunicorn.port, *users["admin"])
            except (RuntimeError, OSError) as error:
                note = f"admin classes skipped: {error}"
                results["notes"].append(note)
                log(f"NOTE: {note}")
        for name in classes:
            if name not in paths:
                continue
            headers = admin_headers if name in ADMIN_CLASSES else api_headers
            if headers is None:
                del paths[name]
                continue
            log(f"{name}: checking {len(paths[name])} paths …")
            checked = check_paths(gunicorn.port, headers, paths[name], connections=workers)
            bad_statuses = Counter(str(s) for s in checked["bad"].values())
            results["classes"][name] = {
                "label": CLASSES[name][0],
                "target_p99_ms": CLASSES[name][1],
                "generated": len(paths[name]),
                "answered_200": len(checked["good"]),
                "dropped": dict(bad_statuses),
                "dropped_examples": dict(list(checked["bad"].items())[:10]),
                "check": checked["times"],
            }
            if checked["bad"]:
                log(
                    f"!!! {name}: {len(checked['bad'])} of {len(paths[name])} paths do not "
                    f"answer 200 and are dropped: {dict(bad_statuses)}; e.g. "
                    f"{list(checked['bad'].items())[:3]}"
                )
            paths[name] = checked["good"]
        api_user = api_headers
    # 2. The timed runs, each on a fresh gunicorn (so the result cache starts empty).
    modes = ["quiet", "write"] if write else ["quiet"]
    for cache in cache_modes:
        for mode in modes:
            with server(cache) as gunicorn:
                port = gunicorn.port
                admin_headers = None
                if any(c in ADMIN_CLASSES and c in paths for c in classes):
                    admin_headers = admin_session(port, *users["admin"])
                warm_up(port, api_user, warm_paths, workers)
                if admin_headers:
                    warm_up(port, admin_headers, ["/admin/"], workers)
                run_entry = {"cache": cache, "mode": mode, "classes": {}}
                writer = None
                if mode == "write":
                    writer = Writer(
                        port, users["officer_token"], users["officer_unit"],
                        reference.sectors[0], reference.countries[0],
                    )  # fmt: skip
                    writer.start()
                for name in classes:
                    if not paths.get(name):
                        continue
                    headers = admin_headers if name in ADMIN_CLASSES else api_user
                    sampler = LoadSampler()
                    sampler.start()
                    writes_before = writer.count if writer else 0
                    log(f"[cache {cache}, {mode}] {name}: {len(paths[name])} paths …")
                    measured = timed_run(
                        port, headers, paths[name], duration=duration,
                        requests=requests or len(paths[name]), seed=seed,
                    )  # fmt: skip
                    measured["load"] = sampler.stop()
                    if writer:
                        measured["writes"] = writer.count - writes_before
                    run_entry["classes"][name] = measured
                    log(
                        f"    n={measured.get('n')} p50={measured.get('p50')} "
                        f"p90={measured.get('p90')} p99={measured.get('p99')} "
                        f"max={measured.get('max')} ms; statuses {measured['statuses']}; "
                        f"load {measured['load']}"
                    )
                if writer:
                    writer.stop()
                    run_entry["writes"] = {
                        **summarize(writer.times),
                        "statuses": {str(k): v for k, v in writer.statuses.items()},
                    }
                    if not any(str(k) in {"200", "201"} for k in writer.statuses):
                        note = (
                            f"writes failed: {dict(writer.statuses)} {getattr(writer, 'error', '')}"
                        )
                        results["notes"].append(note)
                        log(f"!!! {note}")
                if mode == "quiet" and baseline_pages:
                    # The default ModelViewSet on the list's kind of page, same server.
                    rng = random.Random(f"{seed}:baseline")
                    last = max(1, -(-reference.projects // PAGE_SIZE))
                    pages = sorted({_page(rng, last) for _ in range(baseline_pages)})
                    baseline_paths = [
                        f"/bench/baseline/projects/?page_size={PAGE_SIZE}&page={p}" for p in pages
                    ]
                    sampler = LoadSampler()
                    sampler.start()
                    log(f"[cache {cache}, {mode}] baseline: {len(baseline_paths)} pages …")
                    measured = timed_run(
                        port, api_user, baseline_paths, duration=duration,
                        requests=len(baseline_paths), seed=seed,
                    )  # fmt: skip
                    measured["load"] = sampler.stop()
                    run_entry["baseline"] = measured
                    log(f"    baseline p50={measured.get('p50')} ms")
                results["runs"].append(run_entry)
                # Saved after each run, so an interrupted measurement keeps what it took.
                save({**results, "partial": True})
    results["finished"] = datetime.now().astimezone().isoformat(timespec="seconds")
    results.pop("partial", None)
    return results


# --- Report --------------------------------------------------------------------------------


def _ms(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _find(results: dict, cache: str, mode: str) -> dict | None:
    return next((r for r in results["runs"] if r["cache"] == cache and r["mode"] == mode), None)


# gunicorn answers 500 itself when its worker timeout aborts a request (SystemExit in the
# worker; `bench/results/gunicorn.log` tells it from an error of the app).
STATUS_NAMES = {"0": "no answer", "404": "404 (page past the end)", "500": "500"}


def render(results: dict) -> str:
    machine = results["machine"]
    settings = results["settings"]
    lines = [
        f"### {results['pool']['projects']:,} projects",
        "",
        f"Run of {results['date']} at git `{machine.get('git', '?')}` on "
        f"{machine.get('cpu', '?')}, nproc {machine.get('nproc')}, "
        f"{machine.get('memory_gb')} GB, PostgreSQL {machine.get('postgresql')} (jit "
        f"{machine.get('jit')}, statement_timeout {machine.get('statement_timeout')}); "
        f"gunicorn {settings['gunicorn_workers']} workers, 1 connection; seed "
        f"{settings['seed']}, {settings['paths_per_class']} paths per class"
        + (
            f" ({settings['admin_paths_per_class']} for the admin's)"
            if settings.get("admin_paths_per_class") not in (None, settings["paths_per_class"])
            else ""
        )
        + f", each path once per run (at most {settings['duration_s']:g} s per class and run; "
        f"gunicorn --timeout {settings['gunicorn_timeout']} s).",
        "",
    ]
    modes = [(r["cache"], r["mode"]) for r in results["runs"]]
    caches = list(dict.fromkeys(c for c, _ in modes))
    header = ["class", "paths (dropped)", "target p99"]
    for cache in caches:
        tag = "" if cache == "n/a" else f"cache {cache}, "
        header += [f"{tag}quiet p50 / p90 / p99 / max (n)", f"{tag}1 write/s p99 (× quiet)"]  # noqa: RUF001
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, info in results["classes"].items():
        dropped = ", ".join(
            f"{count} of {STATUS_NAMES.get(status, status)}"
            for status, count in sorted(info["dropped"].items())
        )
        row = [
            info["label"],
            f"{info['answered_200']}" + (f" (dropped: {dropped})" if dropped else ""),
            f"{info['target_p99_ms']} ms",
        ]
        for cache in caches:
            quiet = (_find(results, cache, "quiet") or {}).get("classes", {}).get(name, {})
            loud = (_find(results, cache, "write") or {}).get("classes", {}).get(name, {})
            if quiet.get("n"):
                errors = sum(v for k, v in quiet["statuses"].items() if k != "200")
                row.append(
                    f"{_ms(quiet['p50'])} / {_ms(quiet['p90'])} / **{_ms(quiet['p99'])}** / "
                    f"{_ms(quiet['max'])} ({quiet['n']}"
                    + (f", {errors} not 200" if errors else "")
                    + ")"
                )
            else:
                row.append("—")
            if loud.get("n") and quiet.get("n"):
                row.append(
                    f"**{_ms(loud['p99'])}** ({loud['p99'] / quiet['p99']:.2f}×; "  # noqa: RUF001
                    f"p50 {_ms(loud['p50'])}, n {loud['n']}, {loud.get('writes', 0)} writes)"
                )
            else:
                row.append("—")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    for cache in caches:
        quiet = _find(results, cache, "quiet") or {}
        base = quiet.get("baseline", {})
        listing = quiet.get("classes", {}).get("list", {})
        failed = sum(v for k, v in base.get("statuses", {}).items() if k != "200")
        if base.get("n") and listing.get("n") and failed:
            tag = "" if cache == "n/a" else f" (cache {cache})"
            lines.append(
                f"- Default ModelViewSet{tag}: {failed} of {base['n']} pages of 50 not answered "
                f"within the worker timeout ({settings['gunicorn_timeout']} s): no ratio; the "
                f"list's p50 {_ms(listing['p50'])} ms."
            )
        elif base.get("n") and listing.get("n"):
            tag = "" if cache == "n/a" else f" (cache {cache})"
            lines.append(
                f"- Default ModelViewSet{tag}, {base['n']} pages of 50: p50 "
                f"{_ms(base['p50'])} ms; the list's p50 {_ms(listing['p50'])} ms is "
                f"**{base['p50'] / listing['p50']:.1f}×** faster."  # noqa: RUF001
            )
    for run_entry in results["runs"]:
        writes = run_entry.get("writes")
        if writes and writes.get("n"):
            lines.append(
                f"- Writes (cache {run_entry['cache']}): {writes['n']} through the API "
                f"(officer token; a new draft, then a change to it), p50 {_ms(writes.get('p50'))}"
                f" ms, max {_ms(writes.get('max'))} ms; statuses {writes['statuses']}."
            )
    loads = [m["load"] for r in results["runs"] for m in r["classes"].values() if m.get("load")]
    if loads:
        mean = statistics.fmean(x["mean"] for x in loads)
        peak = max(x["max"] for x in loads)
        at_start = " ".join(machine.get("loadavg", []))
        lines.append(
            f"- Load average (1 min) during the runs: mean {mean:.1f}, max {peak:.1f} "
            f"(at start {at_start}); the machine is shared."
        )
    if results.get("partial"):
        lines.append("- **Interrupted**: only the runs above were made.")
    for note in results.get("notes", []):
        lines.append(f"- Note: {note}")
    lines.append(
        f"- Results: `bench/results/varied-{pool_label(results['pool']['projects'])}.json` "
        "(per class and run: "
        "statuses, the five slowest paths, load average; writes)."
    )
    return "\n".join(lines)


def result_files() -> list[dict]:
    found = []
    for path in sorted(RESULTS_DIR.glob("varied-*.json")):
        with contextlib.suppress(ValueError, OSError):
            found.append(json.loads(path.read_text(encoding="utf-8")))
    return sorted(found, key=lambda r: r["pool"]["projects"])


def update_readme() -> None:
    text = README.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{README} lacks the markers {START} / {END}")
    body = "\n\n".join(render(r) for r in result_files()) or "(no varied run yet)"
    block = f"{START}\n<!-- generated by `python -m bench --varied`; do not edit by hand -->\n\n"
    block += body + f"\n\n{END}"
    text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    README.write_text(text, encoding="utf-8")


def pool_label(projects: int) -> int:
    """The pool's size to two significant figures (100,412 → 100000): the writes of
    earlier runs add drafts, and a pool keeps its file."""
    if projects < 100:
        return projects
    scale = 10 ** (len(str(projects)) - 2)
    return round(projects / scale) * scale


def save(results: dict) -> Path:
    path = RESULTS_DIR / f"varied-{pool_label(results['pool']['projects'])}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
