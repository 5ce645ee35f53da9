"""Substring search over projects: code, titles and summaries (zh/en), and the names
(zh/en) of the lead unit and the participating partners.

Each whitespace-separated term must occur (case-insensitively) in one of those texts. On
PostgreSQL every project carries them in one upper-cased column, `Project.search_text`,
kept by triggers (`projects/migrations/0017_project_search_text`); a term never holds a
line break, so "the term occurs in one of the texts" is exactly
`search_text LIKE UPPER('%term%')`: one LIKE on a stored column per row, the same rows
as a plain substring match. Elsewhere (SQLite) the search is plain icontains over the
texts and the partners' names.

A page of the list has a bounded plan for any term (`SearchPlan`): the newest rows are
probed term by term first. A common term (a page among them, or within a short walk) is
read off the newest-first index, its count estimated and marked as such; a rare one is
found through an index (`_narrowing`) and counted exactly.
"""

import json
import re
from dataclasses import dataclass
from functools import cached_property

from django.contrib.postgres.fields import ArrayField
from django.db import connections
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import Contains as LikeContains
from django.db.models.lookups import GreaterThan

from projects.models import Participation, Project
from registry import freshness
from registry.search import Contains, search_terms, substring

PROJECT_FIELDS = ("code", "title_zh", "title_en", "summary_zh", "summary_en")
PARTNER_NAMES = ("name_zh", "name_en")
NEWEST_FIRST = ("-created_at", "-pk")


class _UpperContains(LikeContains):
    """`search_text LIKE UPPER('%term%')`: the column is upper-cased already, the term is
    upper-cased by the database as icontains does (so the two agree on every character)
    and escaped by Django's pattern lookup. pg_trgm's index serves it as it stands."""

    def get_rhs_op(self, connection, rhs):
        return f"LIKE UPPER({rhs})"


def _in_search_text(term: str) -> Q:
    return Q(_UpperContains(F("search_text"), term))


def _in_texts(term: str) -> Q:
    """The term in the project's texts or its partners' names, read from the tables
    themselves (SQLite, and databases whose `search_text` is not kept)."""
    partners = Q()
    for name in PARTNER_NAMES:
        partners |= Q(**{f"partner__{name}__icontains": term})
    return (
        substring(PROJECT_FIELDS, term)
        | substring(PARTNER_NAMES, term, prefix="lead_unit__")
        | Q(Exists(Participation.objects.filter(partners, project_id=OuterRef("pk"))))
    )


def term_condition(term: str, using: str = "default") -> Q:
    """The rows where `term` occurs: exact, checked row by row."""
    if connections[using].vendor == "postgresql":
        return _in_search_text(term)
    return _in_texts(term)


def search_projects(queryset: QuerySet, text: str) -> QuerySet:
    """The projects of `queryset` in which every term of `text` occurs (the planner picks
    the index; the list reads pages through `SearchPlan`)."""
    for term in search_terms(text):
        queryset = queryset.filter(term_condition(term, queryset.db))
    return queryset


# --- Index-served narrowing, for a rare term -------------------------------------------------

# pg_trgm extracts trigrams from runs of letters and digits: a term with a run of three
# is served by the trigram index; shorter ones are not.
_TRIGRAM_RUN = re.compile(r"[^\W_]{3}")


def _characters():
    # Must match `project_search_text_characters` (`projects/0018`) exactly.
    return Func(
        F("search_text"),
        Value(None, output_field=TextField()),
        function="string_to_array",
        output_field=ArrayField(TextField()),
    )


def _narrowing(term: str) -> Q:
    """A condition an index answers for `term`, true of every project where it occurs:
    trigrams for a run of three letters or digits; otherwise the characters' index,
    holding all the term's characters (exact for one character)."""
    if _TRIGRAM_RUN.search(term):
        return _in_search_text(term)
    return Q(
        Contains(
            _characters(),
            Func(Upper(Value(term)), Value(None, output_field=TextField()),
                 function="string_to_array", output_field=ArrayField(TextField())),
        )
    )  # fmt: skip


def _narrowing_rank(term: str) -> int:
    """Among terms equally rare in the probe, the one whose index is sharpest drives."""
    if _TRIGRAM_RUN.search(term):
        return 0
    return 1 if len(term) == 1 else 2


# --- The plan of a list page ------------------------------------------------------------------

# The newest rows of the filtered projects checked term by term before anything else.
PROBE_ROWS = 1000
# Fewer matches among them than this: the term is rare (under 1%), found by index.
RARE_HITS = 10
# A walk for a page reads at most this many rows newest first.
MAX_WALK = 10_000
# The page size the choice between walk and index is made for (the count comes before
# the page is known).
TYPICAL_PAGE = 50
# The count's estimate counts at most this many projects created since the probe's
# oldest row.
WINDOW_LIMIT = 50_000
# Rare matches are listed (and counted exactly) up to this many.
EXACT_LIMIT = 10_000


@dataclass
class Probe:
    examined: int
    hits_per_term: list[int]
    ids: list[int]  # of the rows matching every term, newest first
    oldest: object = None  # the creation time of the last row read

    @property
    def exhausted(self) -> bool:
        """Whether the probe read every filtered project (then it is the whole answer)."""
        return self.examined < PROBE_ROWS

    @property
    def density(self) -> float:
        return len(self.ids) / self.examined if self.examined else 0.0


def estimated_rows(queryset: QuerySet) -> int:
    """The planner's estimate of the rows of `queryset` (EXPLAIN, nothing run)."""
    plan = json.loads(queryset.order_by().explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class SearchPlan:
    """How a page of searched projects (default order) is read and counted.

    1. The probe: the newest `PROBE_ROWS` filtered projects, each term checked on each
       (one statement, a few ms).
    2. Common (at least `RARE_HITS` rows match every term, 1%; or fewer, when a page
       takes a shorter walk than the rarest term has matches): a page is read off the
       newest-first index, checking the terms row by row: from the probe itself, or a
       walk of at most `MAX_WALK` rows; the count is the probe's share of an estimate
       of the filtered projects (`pool`), marked as an estimate.
    3. Rare: the rarest term in the probe drives an index (`_narrowing`), the other
       terms are checked on its rows; up to `EXACT_LIMIT` rows are listed and counted
       exactly.
    If the probe read every filtered project, it is the answer, exact.
    """

    def __init__(self, before_search: QuerySet, text: str):
        self.before_search = before_search
        self.terms = search_terms(text)
        self.using = before_search.db

    def _matching(self, terms) -> Q:
        condition = Q()
        for term in terms:
            condition &= term_condition(term, self.using)
        return condition

    @cached_property
    def probe(self) -> Probe:
        flags = {
            f"term_{index}": ExpressionWrapper(
                term_condition(term, self.using), output_field=BooleanField()
            )
            for index, term in enumerate(self.terms)
        }
        rows = list(
            self.before_search.order_by(*NEWEST_FIRST)
            .annotate(**flags)
            .values_list("created_at", "pk", *flags)[:PROBE_ROWS]
        )
        hits = [sum(1 for row in rows if row[index]) for index in range(2, len(flags) + 2)]
        return Probe(
            len(rows),
            hits,
            [row[1] for row in rows if all(row[2:])],
            rows[-1][0] if rows else None,
        )

    @cached_property
    def common(self) -> bool:
        """Whether pages are read by walking newest first (else through an index). Below
        `RARE_HITS`, a search some rows of the probe match is walked when a page takes
        fewer rows than its rarest term has matches (two common terms rarely together:
        中老铁路 冷链)."""
        probe = self.probe
        if probe.exhausted or len(probe.ids) >= RARE_HITS:
            return True
        if not probe.ids:
            return False
        walk = TYPICAL_PAGE / probe.density
        driver = min(probe.hits_per_term) / probe.examined * self.pool
        # A row the index gives costs more than a walked one: its heap page is fetched
        # whatever the other terms say, and all of them are sorted (x2 on the bench).
        return walk <= min(MAX_WALK, 2 * driver)

    @cached_property
    def pool(self) -> int:
        """An estimate of the number of filtered projects. The probe read the newest
        `PROBE_ROWS` of them: their share among all projects created since the oldest
        of them, times the planner's size of the table. (The planner's own estimate of
        the filtered query missed threefold for a country group: 28,901 for 83,961.) When that
        window holds more than `WINDOW_LIMIT` projects (a narrow filter), the planner's
        estimate."""
        probe = self.probe
        if probe.oldest is not None:
            projects = Project.objects.using(self.using).order_by()
            window = projects.filter(created_at__gte=probe.oldest)[:WINDOW_LIMIT].count()
            if 0 < window < WINDOW_LIMIT:
                return round(probe.examined * max(estimated_rows(projects), window) / window)
        return estimated_rows(self.before_search)

    @property
    def count_is_estimate(self) -> bool:
        if self.probe.exhausted:
            return False
        return self.common or len(self.rare_ids) > EXACT_LIMIT

    @cached_property
    def count(self) -> int:
        probe = self.probe
        if probe.exhausted:
            return len(probe.ids)
        if not self.common and len(self.rare_ids) <= EXACT_LIMIT:
            return len(self.rare_ids)
        return max(round(probe.density * self.pool), len(probe.ids) + 1, len(self.rare_ids))

    def all_ids(self) -> list[int] | None:
        """The ids of every matching project, when the plan has them without a walk: the
        probe read every filtered project, or a rare search matched at most
        `EXACT_LIMIT`. None for a common search (its matches are many: read them by
        walking). For readers of all the matches rather than a page (sites.geojson)."""
        probe = self.probe
        if probe.exhausted:
            return probe.ids
        if not self.common and len(self.rare_ids) <= EXACT_LIMIT:
            return self.rare_ids
        return None

    def walked_condition(self) -> Q:
        """The terms as a condition checked row by row: the same rows as
        `term_condition` (each term in the upper-cased search text), written
        `STRPOS(search_text, UPPER(term)) > 0`, which no index serves. For a common
        search (many matches) read with its own plan (sites.geojson, which needs some
        thousand matches where a page needs 25): the planner, which cannot estimate a
        substring, reads the trigram index of a common word as if it were rare (230 rows
        for 11,572) and then every match's page; with this it walks the newest rows, and
        a walk stops at its limit. PostgreSQL only (`search_text` is kept there)."""
        condition = Q()
        for term in self.terms:
            condition &= Q(GreaterThan(StrIndex(F("search_text"), Upper(Value(term))), 0))
        return condition

    def searched(self) -> QuerySet:
        return self.before_search.filter(self._matching(self.terms)).order_by(*NEWEST_FIRST)

    @cached_property
    def rare_ids(self) -> list[int]:
        """The ids of a rare search, newest first, up to one more than `EXACT_LIMIT`:
        the rarest term's index narrows, every term is checked on what it gives."""
        if self.common:
            return []
        hits = self.probe.hits_per_term
        driver = min(
            range(len(self.terms)), key=lambda i: (hits[i], _narrowing_rank(self.terms[i]))
        )
        narrowed = Project.objects.using(self.using).filter(_narrowing(self.terms[driver]))
        return list(
            self.searched()
            .filter(pk__in=narrowed.values("pk"))
            .values_list("pk", flat=True)[: EXACT_LIMIT + 1]
        )

    def page_ids(self, start: int, stop: int) -> list[int]:
        probe = self.probe
        if probe.exhausted or len(probe.ids) >= stop:
            return probe.ids[start:stop]
        if not self.common:
            if stop <= EXACT_LIMIT:
                return self.rare_ids[start:stop]
            return list(self.searched().values_list("pk", flat=True)[start:stop])
        return self._walk(start, stop)

    def _walk(self, start: int, stop: int) -> list[int]:
        """A page of a common search read off the newest-first index, the terms checked
        row by row on at most `MAX_WALK` rows; past them (a deep page), the planner's
        own plan for the page.

        The cap is a LIMIT inside, the page a LIMIT outside: the outer query pulls rows
        until it has the page, so a walk stops as soon as it has one. Django has no
        subquery in FROM, so the statement is put around the compiled inner query; the
        subquery's order reaches the outer rows (a scan of it with a filter keeps it)."""
        walk = (
            self.before_search.order_by(*NEWEST_FIRST)
            .annotate(
                matched=ExpressionWrapper(self._matching(self.terms), output_field=BooleanField())
            )
            .values_list("pk", "matched")[:MAX_WALK]
        )
        statement = freshness.statement(walk)
        if statement is None:
            return []
        sql, params = statement
        with connections[self.using].cursor() as cursor:
            cursor.execute(
                f"SELECT id FROM ({sql}) AS walk (id, matched) WHERE matched LIMIT %s",
                (*params, stop),
            )
            walked = [pk for (pk,) in cursor.fetchall()]
        if len(walked) >= stop:
            return walked[start:stop]
        return list(self.searched().values_list("pk", flat=True)[start:stop])
