"""Serving the OpenAPI schema, and the post-processing that makes it say exactly what
the server accepts and answers.

drf-spectacular generates the schema by walking every view with state kept on the view
classes while it works; two generations at once in one process (threaded servers,
runserver) trip over each other and answer 500. The schema depends only on the code and
the language, so it is generated once per language under a lock and then served from
memory (which also makes a burst of anonymous schema requests cheap).
"""

import threading

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

_generated: dict[str, Response] = {}
_lock = threading.Lock()


class SchemaView(SpectacularAPIView):
    def get(self, request, *args, **kwargs):
        language = request.GET.get("lang") or get_language()
        if language not in dict(settings.LANGUAGES):  # one cached schema per language
            raise ValidationError({"lang": [_("Choose one of the interface languages.")]})
        with _lock:
            if language not in _generated:
                _generated[language] = super().get(request, *args, **kwargs)
            generated = _generated[language]
        # A fresh Response per request: a Response is rendered (and so changed) by the
        # request that returns it.
        return Response(
            generated.data, headers={"Content-Disposition": generated.get("Content-Disposition")}
        )


@receiver(setting_changed)
def _forget_generated(**kwargs):
    """Settings changed in tests (e.g. SPECTACULAR_SETTINGS) may change the schema."""
    with _lock:
        _generated.clear()
