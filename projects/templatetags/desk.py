"""Numbers on the desk's pages: `{{ value|amount:currency }}` and `{{ rate|percent }}`."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext_lazy as _

from projects import access, services, workflow
from projects.admin.display import amount_html, share_text

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


# What a history entry did, in words: the transition's label, or what happened to a row.
CHANGE_ACTIONS = {
    "created": _("record created"),
    "changed": _("record changed"),
    "deleted": _("record deleted"),
}


@register.filter
def history_action(entry):
    action = entry.get("action", "")
    if entry.get("kind") == "transition":
        transition = workflow.BY_NAME.get(action)
        return transition.label if transition else action
    return CHANGE_ACTIONS.get(action, action)


@register.filter
def user_sees_whole_pool(user):
    """For links to pages only managers open (the screening queue)."""
    return access.sees_whole_pool(user)


@register.filter
def user_sees_stats(user):
    return access.can_view_stats(user)


@register.filter
def history_reason(reason):
    """simple_history's change reason as a reader needs it: the services mark a
    transition's write with `transition:<id>`, which means nothing on screen."""
    if not reason:
        return ""
    if str(reason).startswith(services.TRANSITION_REASON_PREFIX):
        return _("workflow transition")
    return reason


@register.filter
def share(value):
    """A country's or sector's share as people write it: 100, 33.33, 12.5."""
    return share_text(value)


@register.filter
def localized(obj, field: str):
    """`{{ project|localized:"summary" }}`: the Chinese or English text by the page's
    language, the other one when it is empty."""
    from django.utils.translation import get_language

    first, second = ("zh", "en") if (get_language() or "zh").startswith("zh") else ("en", "zh")
    return getattr(obj, f"{field}_{first}", "") or getattr(obj, f"{field}_{second}", "")
