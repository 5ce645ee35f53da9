"""Turning what people type in a spreadsheet into codes and ids.

Countries match by ISO alpha-2/alpha-3/numeric code or Chinese/English name; sectors by
code or name; partners by Chinese or English name or org-id; kinds, risk levels and roles
by code, English label or Chinese word. Every table is loaded once per import (a few
queries), never a query per cell.

Several items in one cell (countries, sectors, partners, tags) are separated by `;`
(also the full-width semicolon or a line break; countries and sectors also accept `、`).
An item may carry a value after `:` (or the full-width colon) — a share for countries
and sectors (`LA:60`, `老挝:60%`), a role for partners (`老挝工商会:partner`,
`Lao Bank:资助`). Full-width forms come from Chinese input methods and are equivalent.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext as _

from partners.models import Partner
from projects.models import Kind, Participation, RiskLevel
from registry.models import Country, Sector

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
PARTNER_KIND_WORDS = {
    Partner.Kind.GOVERNMENT: ("政府", "政府机构", "政府部门"),
    Partner.Kind.CHAMBER: ("商会", "协会", "商协会"),
    Partner.Kind.ENTERPRISE: ("企业", "公司"),
    Partner.Kind.ACADEMIC: ("高校", "大学", "智库", "高校或智库"),
    Partner.Kind.INTERNATIONAL: ("国际组织",),
    Partner.Kind.FINANCIAL: ("金融机构", "银行"),
    Partner.Kind.NGO: ("非政府组织", "社会组织"),
}

# \uff1b full-width semicolon, \uff0c full-width comma, \uff1a full-width colon.
ITEM_SEPARATORS = re.compile("[;\uff1b\n\r]+")
LIST_SEPARATORS = re.compile("[;\uff1b\n\r\u3001]+")
TAG_SEPARATORS = re.compile("[;\uff1b,\uff0c\u3001\n\r]+")
VALUE_SEPARATOR = re.compile("[:\uff1a]")


def normalize(text: str) -> str:
    """The form names are compared in: full-width folded to ASCII, case and spacing ignored."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


class Vocabulary:
    """A closed list of codes (a TextChoices) and every way of writing each one."""

    def __init__(self, choices, words: dict):
        self.choices = choices
        self.words = words
        self._index: dict[str, str] = {}
        for value, label in choices.choices:
            forms = {value, *words.get(value, ())}
            with translation.override("en"):
                forms.add(str(label))
            with translation.override("zh-hans"):
                forms.add(str(label))
            for form in forms:
                self._index[normalize(form)] = value

    def match(self, text: str) -> str | None:
        return self._index.get(normalize(text))

    def allowed(self) -> str:
        return ", ".join(self.choices.values)

    def rows(self):
        """(code, Chinese words, English label) for the template's code list."""
        for value, label in self.choices.choices:
            with translation.override("en"):
                english = str(label)
            yield value, "、".join(self.words.get(value, ())), english


KINDS = Vocabulary(Kind, KIND_WORDS)
RISK_LEVELS = Vocabulary(RiskLevel, RISK_WORDS)
ROLES = Vocabulary(Participation.Role, ROLE_WORDS)
PARTNER_KINDS = Vocabulary(Partner.Kind, PARTNER_KIND_WORDS)


class MatchError(ValueError):
    """A value that could not be matched; the message is for the user."""


@dataclass(frozen=True)
class Item:
    name: str
    value: str  # text after the colon, "" when absent


def split_items(text: str, separators=ITEM_SEPARATORS) -> list[Item]:
    items = []
    for part in separators.split(text or ""):
        part = part.strip()
        if not part:
            continue
        pieces = VALUE_SEPARATOR.split(part)
        if len(pieces) > 1:
            items.append(Item(":".join(pieces[:-1]).strip(), pieces[-1].strip()))
        else:
            items.append(Item(part, ""))
    return items


def parse_share(text: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", text or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        share = Decimal(text)
    except InvalidOperation:
        raise MatchError(_("%(value)s is not a share in per cent.") % {"value": text}) from None
    if not share.is_finite() or share < 0 or share > 100:
        raise MatchError(_("A share must be between 0 and 100, not %(value)s.") % {"value": text})
    return share


class Lookups:
    """Countries, sectors and partners, loaded once and matched in memory."""

    def __init__(self):
        self.countries: dict[str, str] = {}
        for iso2, iso3, numeric, name_zh, name_en in Country.objects.values_list(
            "iso2", "iso3", "numeric", "name_zh", "name_en"
        ):
            for form in (iso2, iso3, numeric, name_zh, name_en):
                if form:
                    self.countries.setdefault(normalize(form), iso2)
        self.sectors: dict[str, int] = {}
        for pk, code, name_zh, name_en in Sector.objects.values_list(
            "pk", "code", "name_zh", "name_en"
        ):
            for form in (code, name_zh, name_en):
                self.sectors.setdefault(normalize(form), pk)
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

    def country(self, text: str) -> str:
        found = self.countries.get(normalize(text))
        if found is None:
            raise MatchError(
                _("Unknown country %(value)s: give its ISO code (LA, LAO) or its name.")
                % {"value": text}
            )
        return found

    def sector(self, text: str) -> int:
        found = self.sectors.get(normalize(text))
        if found is None:
            raise MatchError(
                _("Unknown sector %(value)s: give its code (see the template's code list).")
                % {"value": text}
            )
        return found

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

    def country_shares(self, text: str) -> list[tuple[str, Decimal | None]]:
        return [
            (self.country(i.name), parse_share(i.value)) for i in split_items(text, LIST_SEPARATORS)
        ]

    def sector_shares(self, text: str) -> list[tuple[int, Decimal | None]]:
        return [
            (self.sector(i.name), parse_share(i.value)) for i in split_items(text, LIST_SEPARATORS)
        ]


def split_partner_name(text: str) -> tuple[str, str | None]:
    """`Lao Bank@LA` → ("Lao Bank", "LA"): the optional country after the name."""
    name, at, country = text.rpartition("@")
    if at and name.strip() and country.strip():
        return name.strip(), country.strip()
    return text.strip(), None


def split_tags(text: str) -> list[str]:
    return [t.strip() for t in TAG_SEPARATORS.split(text or "") if t.strip()]
