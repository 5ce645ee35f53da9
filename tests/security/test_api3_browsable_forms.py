"""OWASP API3:2023 (broken object property level authorization), in the browsable API.

Every role opens every project route in a browser (`Accept: text/html`): the page must
not carry a value the user may not read (in a form, pre-filled or not), and a user who
may not make a write gets no form for it."""

import pytest
from django.test import Client

from projects.models import Project, Status
from tests import factories
from tests.conftest import make_user

INTERNAL = "Internal-note-7731 <b>&"
RISK = "Risk-note-5520"
ROUTES = (
    "projects/",
    "projects/sync/",
    "projects/{code}/",
    "projects/{code}/history/",
    "projects/{code}/support-decisions/",
    "projects/{code}/progress-updates/",
    "projects/{code}/transitions/",
    "projects/{code}/reviews/",
)
ROLES = ("officer", "other_officer", "reviewer", "manager", "partner", "admin_user")
# Those who may read the staff-only notes of the project.
READS_NOTES = {"officer", "reviewer", "manager", "admin_user"}
# Those who may change the project (an edit form is theirs to see).
EDITS = {"officer", "admin_user"}


@pytest.fixture
def secret_project(project):
    Project.objects.filter(pk=project.pk).update(internal_notes=INTERNAL, risk_notes=RISK)
    project.refresh_from_db()
    return project


def _users(request):
    users = {
        name: request.getfixturevalue(name)
        for name in ("officer", "other_officer", "reviewer", "manager", "partner_user")
    }
    users["partner"] = users.pop("partner_user")
    users["admin_user"] = request.getfixturevalue("admin_user")
    return users


def _page(user, url) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url, HTTP_ACCEPT="text/html", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 403, 404), (url, response.status_code)
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", ROUTES)
def test_no_page_carries_a_value_the_user_may_not_read(request, secret_project, role, route):
    user = _users(request)[role]
    page = _page(user, "/api/v1/" + route.format(code=secret_project.code))
    if role not in READS_NOTES:
        # Escaped or not, in a form field or in JSON: the marker words are not there.
        assert "Internal-note-7731" not in page
        assert "Risk-note-5520" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_only_those_who_may_edit_get_an_edit_form(request, secret_project, role):
    user = _users(request)[role]
    page = _page(user, f"/api/v1/projects/{secret_project.code}/")
    has_edit_form = 'data-method="PUT"' in page or 'data-method="PATCH"' in page
    assert has_edit_form == (role in EDITS)
    if role in EDITS:
        # The form is the write form, pre-filled: the reader of the notes sees them.
        assert "Internal-note-7731" in page


@pytest.mark.django_db
def test_partner_form_lists_only_its_own_institutions(partner_user, foreign_partner):
    """The progress form names the institution posted for: a partner's list holds its
    own institutions, never the other partners of the pool."""
    stranger = factories.PartnerFactory(country_id="TH", name_en="Hidden Bangkok Holdings")
    project = factories.ProjectFactory(
        partners=[(foreign_partner, "partner"), (stranger, "funding")],
        countries=[("LA", 100)],
        sectors=[("logistics-rail", 100)],
    )
    hidden_elsewhere = factories.PartnerFactory(
        country_id="VN", name_zh="无关河内公司", name_en="Unrelated Hanoi Ltd"
    )
    Project.objects.filter(pk=project.pk).update(status=Status.IN_PROGRESS)
    page = _page(partner_user, f"/api/v1/projects/{project.code}/progress-updates/")
    assert 'data-method="POST"' in page or 'method="POST"' in page
    assert hidden_elsewhere.name_en not in page
    assert hidden_elsewhere.name_zh not in page


@pytest.mark.django_db
def test_no_forms_for_a_partner_without_rights(foreign_partner):
    """A partner user sees a project it takes part in, but takes no workflow action and
    enters no project: no transition or create form is drawn for it."""
    user = make_user("partner-b", "partner", foreign_partner)
    project = factories.ProjectFactory(partners=[(foreign_partner, "partner")])
    transitions = _page(user, f"/api/v1/projects/{project.code}/transitions/")
    assert 'data-method="POST"' not in transitions
    listing = _page(user, "/api/v1/projects/")
    assert 'data-method="POST"' not in listing
