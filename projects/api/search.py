"""Substring search over projects: code, titles and summaries (zh/en), and the names
(zh/en) of the lead unit and the participating partners.

Each whitespace-separated term must occur (case-insensitively) in one of those texts.
On PostgreSQL a term of two or more characters is first narrowed by the bigram GIN
indexes created in `registry/migrations/0003_chinese_search_indexes.py` and then checked
exactly with UPPER(...) LIKE, so the result equals a plain substring match; one-character
terms are matched by LIKE alone. Elsewhere (SQLite) the search is plain icontains.
"""

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet, TextField, Value

from partners.models import Partner
from projects.models import Participation, Project

PROJECT_FIELDS = ("code", "title_zh", "title_en", "summary_zh", "summary_en")
PARTNER_FIELDS = ("name_zh", "name_en")
MAX_TERMS = 5


class _Bigrams(Func):
    function = "registry_bigrams"
    output_field = TextField()


class _Contains(Func):
    """`document @> registry_bigrams(term)`: true when every bigram of the term is in
    the document's bigrams (the GIN index answers this)."""

    arg_joiner = " @> "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def _project_document():
    # Must match the indexed expression exactly.
    return Func(
        *[F(name) for name in PROJECT_FIELDS],
        function="registry_project_bigrams",
        output_field=TextField(),
    )


def _partner_document():
    return Func(
        *[F(name) for name in PARTNER_FIELDS],
        function="registry_partner_bigrams",
        output_field=TextField(),
    )


def _substring(fields, term: str, prefix: str = "") -> Q:
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{prefix}{name}__icontains": term})
    return condition


def _indexed(document, term: str) -> Q:
    if connection.vendor == "postgresql" and len(term) >= 2:
        return Q(_Contains(document, _Bigrams(Value(term))))
    return Q()


def search_terms(text: str) -> list[str]:
    return text.split()[:MAX_TERMS]


def matching_partners(term: str) -> QuerySet:
    return Partner.objects.filter(
        _indexed(_partner_document(), term), _substring(PARTNER_FIELDS, term)
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


def search_partners(queryset: QuerySet, text: str) -> QuerySet:
    for term in search_terms(text):
        queryset = queryset.filter(pk__in=matching_partners(term).values("pk"))
    return queryset
