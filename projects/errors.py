"""Domain errors raised by the services. Each carries a machine code and a translated
message; the admin shows the message, the API maps the error to its HTTP status."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The base classes live in the base app so the API machinery can map every domain error
# without importing the domain; re-exported here, where the services look for them.
from registry.errors import DomainError as DomainError
from registry.errors import StaleWrite as StaleWrite


class NotAllowed(DomainError):
    """The actor has no right to do this (API: 403, or 404 when they may not see it)."""

    code = "not_allowed"
    status_code = 403
    default_message = _("You are not allowed to do this.")


class TransitionNotAllowed(DomainError):
    """The transition does not apply to the project's current state (API: 409)."""

    code = "transition_not_allowed"
    status_code = 409
    default_message = _("This action is not possible in the project's current state.")


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

    @property
    def field_errors(self) -> dict:
        return self.errors
