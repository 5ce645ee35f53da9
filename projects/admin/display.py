"""How numbers read in the admin: shares as plain percentages (`越南 100%`, never the
`1E+2%` of `Decimal.normalize()`), amounts with thousands separators and, in Chinese, in
万/亿 with the exact figure on hover."""

from decimal import Decimal

from django.utils.html import format_html
from django.utils.translation import get_language

WAN = Decimal(10_000)
YI = Decimal(100_000_000)


def share_text(share: Decimal | None) -> str:
    """A share as written by people: 100, 50, 33.33 (no exponent, no trailing zeros)."""
    if share is None:
        return ""
    text = f"{share:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def exact_amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def short_amount(value: Decimal, language: str | None = None) -> str:
    """In Chinese, 亿 from a hundred million and 万 from ten thousand (two decimals at
    most); elsewhere the exact figure with separators."""
    language = (language or get_language() or "").lower()
    if not language.startswith("zh"):
        return exact_amount(value)
    for unit, name in ((YI, "亿"), (WAN, "万")):
        if abs(value) >= unit:
            scaled = (value / unit).quantize(Decimal("0.01"))
            return f"{share_text(scaled)}{name}"
    return exact_amount(value)


def amount_html(value: Decimal | None, currency: str = "") -> str:
    """An amount for a page: the short form, the exact one in the title attribute."""
    if value is None:
        return ""
    exact = f"{exact_amount(value)} {currency}".strip()
    short = f"{short_amount(value)} {currency}".strip()
    return format_html('<span class="amount" title="{}">{}</span>', exact, short)
