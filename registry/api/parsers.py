from io import BytesIO

from django.conf import settings
from rest_framework.parsers import JSONParser

from registry.api.errors import RequestTooLarge


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
        return super().parse(stream, media_type, parser_context)
