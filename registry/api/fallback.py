"""Every address under /api/ answers JSON in the one error shape, also where no route
matches (Django would answer its HTML 404 page, and in DEBUG the technical one)."""

from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from registry.api.errors import error_body


@csrf_exempt  # writes nothing; a POST here is a 404, not a CSRF failure page
def api_not_found(request, rest: str = ""):
    """The last route under /api/. A GET of a known address without its final slash is
    redirected as Django's APPEND_SLASH would (that middleware does not redirect an
    address this route matches); anything else is a JSON 404."""
    path = request.path_info
    if request.method in {"GET", "HEAD"} and not path.endswith("/"):
        try:
            match = resolve(path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not api_not_found:
            return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
    return JsonResponse(
        error_body("not_found", _("There is nothing at this address of the API.")),
        status=404,
    )


def server_error(request):
    """`handler500`: JSON in the error shape under /api/, Django's page elsewhere."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            error_body("server_error", _("The server could not answer this request.")),
            status=500,
        )
    return defaults.server_error(request)
