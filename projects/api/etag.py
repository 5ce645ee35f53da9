"""ETags and If-Match for projects. The ETag is `"<code>-v<version>"`; `Project.version`
is bumped by every write through `projects.services`, which also re-checks the expected
version under the row lock, so a race between two writers is refused too."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from projects.models import Project
from registry.api.errors import PreconditionFailed, PreconditionRequired

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    # The server answers 428 to an If-Match that is no ETag of a project at all.
    pattern=r'^"[A-Za-z0-9_.-]+-v[0-9]+"$',
    description=gettext_lazy('The project\'s ETag as last read, e.g. "P000123-v4".'),
)
ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description=gettext_lazy("The project's version tag, to send back in If-Match."),
)

_TAG = re.compile(r'^(?:W/)?"(?P<code>[^"]+)-v(?P<version>\d+)"$')


def project_etag(project: Project) -> str:
    return f'"{project.code}-v{project.version}"'


def expected_version(request, project: Project) -> int:
    """The version the client last read, from If-Match. 428 without the header; 412
    when it names another version (or another project)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    if header == "*":
        raise PreconditionRequired(_("If-Match: * is not enough here; send the project's ETag."))
    for tag in (part.strip() for part in header.split(",")):
        match = _TAG.match(tag)
        if match and match["code"] == project.code:
            version = int(match["version"])
            if version != project.version:
                raise PreconditionFailed()
            return version
    raise PreconditionFailed()


def not_modified(request, project: Project) -> bool:
    tags = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    return project_etag(project) in tags
