"""The desk: the project pool's admin (registered on import by Django's autodiscover)."""

from projects.admin import project  # noqa: F401  (registers the ModelAdmins)
