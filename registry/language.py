"""The registry's two languages: which of a record's two names to show, and any browser
language other than Chinese or English gets English.

Django's LocaleMiddleware falls back to LANGUAGE_CODE (zh-hans, the office's language)
when none of the browser's languages is available, so a Lao or Thai browser would read
Chinese. This middleware runs right after it: when the request names languages in
Accept-Language, none of them is available and no language was chosen (cookie), English
is activated instead. A request without Accept-Language keeps the office's default.
"""

from django.conf import settings
from django.utils import translation


def chinese_active() -> bool:
    """Whether the active language is Chinese (no active language: the office's default,
    Chinese)."""
    return (translation.get_language() or "zh-hans").lower().startswith("zh")


def pick_name(name_zh: str | None, name_en: str | None) -> str:
    """The Chinese or the English name, whichever the active language asks for; the other
    when that one is empty."""
    if chinese_active():
        return name_zh or name_en or ""
    return name_en or name_zh or ""


def _accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header that are not refused with q=0."""
    tags = []
    for item in header.split(","):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = params.strip()
        if quality.startswith("q="):
            try:
                if float(quality[2:]) <= 0:
                    continue
            except ValueError:
                continue
        tags.append(tag)
    return tags


def speaks_available_language(header: str) -> bool:
    for tag in _accepted_languages(header):
        try:
            translation.get_supported_language_variant(tag)
        except LookupError:
            continue
        return True
    return False


class ForeignBrowserMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        header = request.META.get("HTTP_ACCEPT_LANGUAGE", "")
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if header and not chosen and not speaks_available_language(header):
            translation.activate("en")
            request.LANGUAGE_CODE = "en"
        return self.get_response(request)
