"""Substring search over projects: code, titles and summaries (zh/en), and the names
(zh/en) of the lead unit and the participating partners.

Each whitespace-separated term must occur (case-insensitively) in one of those texts.
On PostgreSQL a term of two or more characters is first narrowed by the bigram GIN
indexes created in `registry/migrations/0003_chinese_search_indexes.py` and then checked
exactly with UPPER(...) LIKE, so the result equals a plain substring match; one-character
terms are matched by LIKE alone. Elsewhere (SQLite) the search is plain icontains.
"""

from collections.abc import Callable

from django.db import connections
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, TextField

from partners.search import matching_partners
from projects.models import Participation, Project
from registry import freshness
from registry.search import indexed as _indexed
from registry.search import search_terms as search_terms
from registry.search import substring as _substring

PROJECT_FIELDS = ("code", "title_zh", "title_en", "summary_zh", "summary_en")


def _project_document():
    # Must match the indexed expression exactly.
    return Func(
        *[F(name) for name in PROJECT_FIELDS],
        function="registry_project_bigrams",
        output_field=TextField(),
    )


def project_ids_matching(term: str) -> QuerySet:
    """Ids of projects whose own texts or whose partners' names contain `term`.

    A UNION of three index-served parts rather than one OR across tables: the planner
    cannot combine an OR spanning joins into bitmap index scans, but it can take each
    part from its index and join the (small) union to the projects by primary key."""
    partner_ids = matching_partners(term).values("pk")
    own = Project.objects.filter(
        _indexed(_project_document(), term), _substring(PROJECT_FIELDS, term)
    ).values("pk")
    led = Project.objects.filter(lead_unit_id__in=partner_ids).values("pk")
    taking_part = Participation.objects.filter(partner_id__in=partner_ids).values("project_id")
    return own.union(led, taking_part)


def search_projects(queryset: QuerySet, text: str) -> QuerySet:
    for term in search_terms(text):
        queryset = queryset.filter(pk__in=project_ids_matching(term))
    return queryset


# --- Reading a page off the newest-first index ---------------------------------------------
#
# A common term (冷链 is in one project of six) matches thousands of projects. The
# index-served UNION above finds them all before the newest 50 can be picked: 17,000
# matches cost ~60 ms to collect and sort on 100,000 projects, whatever the page. Walking
# the projects newest first and checking each one finds a page after ~50 / density rows
# (~300 here, a few ms), but for a rare term it would read the whole table. So the list
# walks only when the exact count (known, and cached, before the page is read) says the
# walk is short: `walk_length`.

# At most this many rows checked one by one for a page; beyond it the UNION is cheaper.
MAX_WALK = 2000


class _ExistsPerRow(Exists):
    """EXISTS checked for each row that reaches it. PostgreSQL would otherwise turn it
    into a hashed subplan, building the set of all matching rows first: the very cost
    the walk avoids. `OFFSET 0` keeps it a plain correlated subquery."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def walk_length(*, offset: int, page_size: int, matches: int, pool: int) -> float:
    """Expected rows read newest-first before the page is complete."""
    return (offset + page_size) * pool / matches if matches else float("inf")


def pool_estimate(using: str = "default") -> int:
    """The planner's estimate of the number of projects: enough to choose a plan by."""

    def read():
        with connections[using].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [Project._meta.db_table],
            )
            row = cursor.fetchone()
        return max(int(row[0]), 0) if row else 0

    return freshness.remember(("pool-estimate",), read, using=using)


def should_walk(
    *, offset: int, page_size: int, matches: int, pool: Callable[[], int], using: str = "default"
) -> bool:
    """Whether to read the page by walking; `pool()` gives the number of projects."""
    if connections[using].vendor != "postgresql" or not matches:
        return False
    size = pool()
    if size <= 0:  # never analysed: no estimate to go by
        return False
    length = walk_length(offset=offset, page_size=page_size, matches=matches, pool=size)
    return length <= min(MAX_WALK, matches)


def walk_condition(text: str) -> Q:
    """The search as a condition each project row is checked against (no text index):
    its own texts, its lead unit or a participation among the matching partners, whose
    ids are read first (one small, index-served query)."""
    condition = Q()
    for term in search_terms(text):
        partners = matching_partners(term)
        partner_ids = freshness.remember(
            ("matching-partners", term),
            lambda partners=partners: list(partners.values_list("pk", flat=True)),
            using=partners.db,
            tables=[partners.model._meta.db_table],
        )
        term_condition = _substring(PROJECT_FIELDS, term)
        if partner_ids:
            term_condition |= Q(lead_unit_id__in=partner_ids) | Q(
                _ExistsPerRow(
                    Participation.objects.filter(
                        project_id=OuterRef("pk"), partner_id__in=partner_ids
                    )
                )
            )
        condition &= term_condition
    return condition


class SearchWalk:
    """A search of the list that may be read by walking (`listing.CountedValues`): the
    projects as filtered before the search, and its text."""

    # In the count's cache key: a change to what a search matches must not meet counts
    # of the old meaning (a shared cache outlives a deploy).
    VERSION = 1

    def __init__(self, before_search: QuerySet, text: str):
        self.before_search = before_search
        self.text = text

    def projects(self) -> QuerySet:
        """The filtered projects with the search checked row by row."""
        return self.before_search.filter(walk_condition(self.text))

    def count_key(self) -> tuple | None:
        """What identifies the count of the searched projects (None: they can be none):
        the SQL of the projects before the search and the text. The searched query's own
        SQL, a union per term, took the ORM some 3 ms more to compile, only for the key."""
        before = freshness.statement(self.before_search.values_list("pk", flat=True))
        return None if before is None else ("search", self.VERSION, *before, self.text)
