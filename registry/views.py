from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from registry.preferences import set_user_language


@require_POST
def set_language(request):
    """Django's language switch (cookie, redirect), and for a signed-in user the choice is
    also kept as theirs: emails to them are written in it."""
    response = django_set_language(request)
    if request.user.is_authenticated and request.POST.get("language"):
        set_user_language(user=request.user, language=request.POST["language"])
    return response
