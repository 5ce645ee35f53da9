"""Domain errors raised by the services. Each carries a machine code and a translated
message; the admin shows the message, the API maps the error to its HTTP status."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    code = "domain_error"
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, code: str | None = None):
        self.message = message if message is not None else self.default_message
        if code:
            self.code = code
        super().__init__(str(self.message))

    def __str__(self) -> str:
        return str(self.message)


class NotAllowed(DomainError):
    """The actor has no right to do this (API: 403, or 404 when they may not see it)."""

    code = "not_allowed"
    default_message = _("You are not allowed to do this.")


class TransitionNotAllowed(DomainError):
    """The transition does not apply to the project's current state (API: 409)."""

    code = "transition_not_allowed"
    default_message = _("This action is not possible in the project's current state.")


class StaleWrite(DomainError):
    """The caller edited an older version of the project (API: 412)."""

    code = "stale_write"
    default_message = _(
        "The project was changed by someone else since you loaded it; reload and try again."
    )


class InvalidData(DomainError):
    """Field errors (API: 400). `errors` maps field names to lists of messages."""

    code = "invalid"
    default_message = _("The data is not valid.")

    def __init__(self, errors: dict | ValidationError, message=None):
        if isinstance(errors, ValidationError):
            errors = (
                errors.message_dict
                if hasattr(errors, "error_dict")
                else {"non_field_errors": errors.messages}
            )
        self.errors = errors
        super().__init__(message)
