"""The pieces of substring search every searchable table shares.

On PostgreSQL a term of two or more characters is first narrowed by the bigram GIN
indexes created in `registry/migrations/0003_chinese_search_indexes.py` (whose SQL
functions `registry_bigrams`, `registry_project_bigrams` and `registry_partner_bigrams`
live in the base) and then checked exactly with UPPER(...) LIKE, so the result equals a
plain substring match; one-character terms are matched by LIKE alone. Elsewhere (SQLite)
the search is plain icontains.
"""

from django.db import connection
from django.db.models import BooleanField, Func, Q, TextField, Value

MAX_TERMS = 5


class Bigrams(Func):
    function = "registry_bigrams"
    output_field = TextField()


class Contains(Func):
    """`document @> registry_bigrams(term)`: true when every bigram of the term is in
    the document's bigrams (the GIN index answers this)."""

    arg_joiner = " @> "
    template = "(%(expressions)s)"
    output_field = BooleanField()


def substring(fields, term: str, prefix: str = "") -> Q:
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{prefix}{name}__icontains": term})
    return condition


def indexed(document, term: str) -> Q:
    if connection.vendor == "postgresql" and len(term) >= 2:
        return Q(Contains(document, Bigrams(Value(term))))
    return Q()


def search_terms(text: str) -> list[str]:
    return text.split()[:MAX_TERMS]
