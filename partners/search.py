"""Substring search over partner institutions: each whitespace-separated term must occur
(case-insensitively) in the Chinese or the English name (see `registry.search`)."""

from django.db.models import F, Func, QuerySet, TextField

from partners.models import Partner
from registry.search import indexed, search_terms, substring

PARTNER_FIELDS = ("name_zh", "name_en")


def _partner_document():
    # Must match the indexed expression exactly.
    return Func(
        *[F(name) for name in PARTNER_FIELDS],
        function="registry_partner_bigrams",
        output_field=TextField(),
    )


def matching_partners(term: str) -> QuerySet:
    return Partner.objects.filter(
        indexed(_partner_document(), term), substring(PARTNER_FIELDS, term)
    )


def search_partners(queryset: QuerySet, text: str) -> QuerySet:
    for term in search_terms(text):
        queryset = queryset.filter(pk__in=matching_partners(term).values("pk"))
    return queryset
