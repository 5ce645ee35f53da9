"""Turning what people type in a spreadsheet into codes and ids.

The shared pieces (countries, sectors, vocabularies, items and shares) are in
`registry.importing.matching`; here: partners by Chinese or English name or org-id;
kinds, risk levels and roles by code, English label or Chinese word. Every table is
loaded once per import (a few queries), never a query per cell.

Several items in one cell (countries, sectors, partners, tags) are separated by `;`
(also the full-width semicolon or a line break; countries and sectors also accept `、`).
An item may carry a value after `:` (or the full-width colon) — a share for countries
and sectors (`LA:60`, `老挝:60%`), a role for partners (`老挝工商会:partner`,
`Lao Bank:资助`). Full-width forms come from Chinese input methods and are equivalent.
"""

import re

from django.utils.translation import gettext as _

from partners.models import Partner
from projects.models import Kind, Participation, RiskLevel
from registry.importing.matching import MatchError, ReferenceLookups, Vocabulary, normalize

# Chinese words people write for the codes; these are input vocabulary, not UI text.
KIND_WORDS = {
    Kind.PROJECT: ("实质性项目", "项目", "实体项目"),
    Kind.ACTIVITY: ("活动", "会议活动", "活动类"),
}
RISK_WORDS = {
    RiskLevel.LOW: ("低", "低风险"),
    RiskLevel.MEDIUM: ("中", "中等", "中风险"),
    RiskLevel.HIGH: ("高", "高风险"),
}
ROLE_WORDS = {
    Participation.Role.LEAD: ("牵头", "牵头方", "牵头单位"),
    Participation.Role.FUNDING: ("资助", "资助方", "出资", "出资方"),
    Participation.Role.IMPLEMENTING: ("实施", "实施方", "实施单位"),
    Participation.Role.PARTNER: ("合作", "合作方", "合作伙伴"),
    Participation.Role.SUPPORTING: ("支持", "支持方", "支持单位"),
}
# \uff0c full-width comma.
TAG_SEPARATORS = re.compile("[;\uff1b,\uff0c\u3001\n\r]+")

KINDS = Vocabulary(Kind, KIND_WORDS)
RISK_LEVELS = Vocabulary(RiskLevel, RISK_WORDS)
ROLES = Vocabulary(Participation.Role, ROLE_WORDS)


class Lookups(ReferenceLookups):
    """Countries, sectors and partners, loaded once and matched in memory."""

    def __init__(self):
        super().__init__()
        self.partners_by_name: dict[str, set[int]] = {}
        self.partners_by_org_id: dict[str, int] = {}
        self.partner_country: dict[int, str] = {}
        for pk, name_zh, name_en, org_id, country_id in Partner.objects.values_list(
            "pk", "name_zh", "name_en", "org_id", "country_id"
        ):
            self.add_partner(pk, name_zh, name_en, org_id, country_id)

    def add_partner(self, pk, name_zh, name_en, org_id, country_id) -> None:
        for form in {normalize(name_zh), normalize(name_en or "")} - {""}:
            self.partners_by_name.setdefault(form, set()).add(pk)
        if org_id:
            self.partners_by_org_id[org_id.strip().upper()] = pk
        self.partner_country[pk] = country_id

    def partner(self, text: str, country_id: str | None = None) -> int | None:
        """The partner named `text` (or with that org-id); None when there is none.
        `country_id` picks among several institutions of the same name."""
        by_org_id = self.partners_by_org_id.get(text.strip().upper())
        if by_org_id is not None:
            return by_org_id
        found = self.partners_by_name.get(normalize(text), set())
        if country_id is not None:
            found = {pk for pk in found if self.partner_country[pk] == country_id}
        if len(found) > 1:
            raise MatchError(
                _(
                    "Several partners are named %(value)s; write name@country (e.g. "
                    "%(value)s@LA) or use the org-id."
                )
                % {"value": text}
            )
        return next(iter(found), None)


def split_partner_name(text: str) -> tuple[str, str | None]:
    """`Lao Bank@LA` → ("Lao Bank", "LA"): the optional country after the name."""
    name, at, country = text.rpartition("@")
    if at and name.strip() and country.strip():
        return name.strip(), country.strip()
    return text.strip(), None


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in TAG_SEPARATORS.split(text or "") if t.strip()]
