from io import BytesIO

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from registry.api.errors import RequestTooLarge

# No request body of this API nests deeper than a list of objects in an object (3); the
# margin leaves room for growth. Python's JSON decoder recurses per level and fails with
# RecursionError (a 500) near 1,000 levels, so depth is refused before that.
MAX_JSON_DEPTH = 32


def json_depth_exceeds(data, limit: int) -> bool:
    """Whether `data` (parsed JSON) nests deeper than `limit`; iterative, so any depth
    is measured without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            value = value.values()
        elif not isinstance(value, list):
            continue
        if depth > limit:
            return True
        stack.extend((item, depth + 1) for item in value)
    return False


class TooDeeplyNested(ParseError):
    default_code = "too_deeply_nested"
    default_detail = _("The JSON body is nested too deeply.")


class LimitedJSONParser(JSONParser):
    """JSON bodies up to DATA_UPLOAD_MAX_MEMORY_SIZE bytes. DRF reads the request stream
    directly, past Django's own size check, so the limit is applied here."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            request = (parser_context or {}).get("request")
            declared = request.META.get("CONTENT_LENGTH") if request is not None else None
            try:
                if declared and int(declared) > limit:
                    raise RequestTooLarge()
            except ValueError:
                pass
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestTooLarge()
            stream = BytesIO(body)
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise TooDeeplyNested() from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise TooDeeplyNested()
        return data
