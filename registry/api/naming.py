"""The names the browsable API gives its pages (its title and breadcrumbs), in the
request's language: DRF's `VIEW_NAME_FUNCTION` setting points here.

DRF's default builds English from class names ("Api Root", "Project List"). Here a
router's list and detail pages are named after their model (its translated plural and
singular names), a view may say its own name (`view_name`, a lazy translation), and the
names DRF builds for the root and for extra actions are translated by the table below.
"""

from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from rest_framework.views import get_view_name as drf_view_name

# DRF's English names (from class and action names) → what the page is called.
TRANSLATED = {
    "Api Root": _("API root"),
    "Me": _("My account"),
    "Sync": _("Changes since a cursor"),
    "History": _("History"),
    "Reviews": _("reviews"),
    "Support decisions": _("support decisions"),
    "Progress updates": _("progress updates"),
    "Transitions": _("transitions"),
}


def _model(view):
    queryset = getattr(view, "queryset", None)
    if queryset is not None:
        return queryset.model
    serializer_class = getattr(view, "serializer_class", None)
    meta = getattr(serializer_class, "Meta", None)
    return getattr(meta, "model", None)


def view_name(view) -> str:
    own = getattr(view, "view_name", None)
    if own:
        return capfirst(own)
    suffix = getattr(view, "suffix", None)
    model = _model(view)
    if getattr(view, "name", None) is None and model is not None and suffix in {"List", "Instance"}:
        meta = model._meta
        return capfirst(meta.verbose_name_plural if suffix == "List" else meta.verbose_name)
    name = drf_view_name(view)
    return capfirst(TRANSLATED.get(name, name))
