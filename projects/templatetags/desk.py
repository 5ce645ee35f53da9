"""Numbers on the desk's pages: `{{ value|amount:currency }}` and `{{ rate|percent }}`."""

from decimal import Decimal, InvalidOperation

from django import template

from projects.admin_display import amount_html, share_text

register = template.Library()


@register.filter
def amount(value, currency=""):
    if value in (None, ""):
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value
    return amount_html(number, currency or "")


@register.filter
def percent(rate):
    """0.8667 → "86.67%"; None → "-"."""
    if rate is None or rate == "":
        return "-"
    scaled = (Decimal(str(rate)) * 100).quantize(Decimal("0.01"))
    return f"{share_text(scaled)}%"
