"""A user's own choices: the language emails are written in and the notification kinds
turned off. Read and written only here."""

from django.conf import settings
from django.utils.translation import check_for_language

from registry.models import UserPreference


def user_language(user) -> str:
    """The language to write to `user` in: their choice, else the office's default."""
    preference = UserPreference.objects.filter(user_id=user.pk).only("language").first()
    if preference and preference.language:
        return preference.language
    return settings.LANGUAGE_CODE


def set_user_language(*, user, language: str) -> None:
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        UserPreference.objects.update_or_create(user=user, defaults={"language": language})


def muted(user) -> frozenset[str]:
    preference = UserPreference.objects.filter(user_id=user.pk).only("muted_notifications").first()
    return frozenset(preference.muted_notifications if preference else ())


def set_muted(*, user, kinds) -> None:
    UserPreference.objects.update_or_create(
        user=user, defaults={"muted_notifications": sorted(set(kinds))}
    )
