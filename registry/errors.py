"""The base of the domain errors. The domain apps subclass `DomainError` (each subclass
says its machine code, message and HTTP status), so the shared API machinery
(`registry.api.errors`) turns any of them into the one error shape without knowing the
domain: the base imports nothing from the apps above it."""

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    default_message = _("The request could not be carried out.")
    # The API's answer to this error; subclasses say theirs.
    status_code = 400

    def __init__(self, message=None, *, code: str | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)

    @property
    def field_errors(self) -> dict | None:
        """Messages per field ({"field": ["…"]}) when the error is about the data."""
        return None


class StaleWrite(DomainError):
    """The caller edited an older version of the record (API: 412). Conditional writes
    (If-Match) are shared API machinery, so the error lives here."""

    code = "stale_write"
    status_code = 412
    default_message = _(
        "The project was changed by someone else since you loaded it; reload and try again."
    )
