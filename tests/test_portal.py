"""The partner portal through its URLs: login, the projects a partner may see (never
drafts, never another institution's), search and status filter, the project page, posting
progress, password reset by email, language fallback and the language switch."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from projects.models import ProgressUpdate, StatusChange
from tests import factories
from tests.conftest import make_user

PASSWORD = "pw-for-tests-1"


@pytest.fixture
def other_partner(db):
    institution = factories.PartnerFactory(
        country_id="TH", name_zh="泰国商会", name_en="Thai Chamber"
    )
    return make_user("other-partner", "partner", institution)


@pytest.fixture
def projects(lead_unit, foreign_partner):
    def make(status, title, partners=((foreign_partner, "partner"),)):
        return factories.ProjectFactory(
            status=status,
            title_en=title,
            lead_unit=lead_unit,
            countries=[("LA", 100)],
            sectors=[("logistics-rail", 100)],
            partners=list(partners),
        )

    return {
        "draft": make("draft", "Draft cold chain"),
        "submitted": make("submitted", "Submitted dry port"),
        "progress": make("in_progress", "Rail freight running"),
        "foreign": make("in_progress", "Someone else's", partners=()),
    }


def login(client, user):
    response = client.post(
        reverse("portal:login"), {"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content
    return response


def test_anonymous_is_sent_to_the_portal_login(client, db):
    response = client.get(reverse("portal:projects"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_login_with_username_and_password_then_logout(client, partner_user):
    response = login(client, partner_user)
    assert response.url == reverse("portal:projects")
    assert client.get(reverse("portal:projects")).status_code == 200
    client.post(reverse("portal:logout"))
    assert client.get(reverse("portal:projects")).status_code == 302


def test_wrong_password_is_refused_with_a_message(client, partner_user):
    response = client.post(
        reverse("portal:login"),
        {"username": partner_user.username, "password": "wrong"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert b"correct username and password" in response.content


def test_partner_sees_its_projects_from_submission_on(client, partner_user, projects):
    login(client, partner_user)
    page = client.get(reverse("portal:projects")).content.decode()
    assert projects["submitted"].code in page
    assert projects["progress"].code in page
    assert projects["draft"].code not in page
    assert projects["foreign"].code not in page


def test_search_and_status_filter(client, partner_user, projects):
    login(client, partner_user)
    page = client.get(reverse("portal:projects"), {"q": "dry port"}).content.decode()
    assert projects["submitted"].code in page
    assert projects["progress"].code not in page
    page = client.get(reverse("portal:projects"), {"status": "in_progress"}).content.decode()
    assert projects["progress"].code in page
    assert projects["submitted"].code not in page
    # Drafts are not even offered as a filter to a partner, and asking is not an error.
    response = client.get(reverse("portal:projects"), {"status": "draft"})
    assert response.status_code == 200
    assert projects["draft"].code not in response.content.decode()


@pytest.mark.parametrize("which", ["draft", "foreign"])
def test_a_project_outside_the_partners_reach_is_404(client, partner_user, projects, which):
    login(client, partner_user)
    url = reverse("portal:project", args=[projects[which].code])
    assert client.get(url).status_code == 404
    assert client.post(url, {"note": "x", "reported_on": "2026-01-01"}).status_code == 404
    assert not ProgressUpdate.objects.exists()


def test_unknown_code_is_404(client, partner_user, projects):
    login(client, partner_user)
    assert client.get(reverse("portal:project", args=["NOPE-1"])).status_code == 404


def test_project_page_shows_timeline_countries_sectors_and_partner_part_of_support(
    client, partner_user, projects, manager
):
    project = projects["progress"]
    StatusChange.objects.create(
        project=project, action="start", from_status="selected", to_status="in_progress"
    )
    from projects import services

    services.support_decide(
        project=project, actor=manager, kind="funding", amount="5000", currency="USD",
        conditions="INTERNAL-CONDITION",
    )  # fmt: skip
    project.internal_notes = "SECRET-NOTE"
    project.save()
    login(client, partner_user)
    page = client.get(
        reverse("portal:project", args=[project.code]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert 'id="timeline"' in page and "in progress" in page
    assert "Laos" in page
    assert "5000" in page and "USD" in page
    assert "INTERNAL-CONDITION" not in page
    assert "SECRET-NOTE" not in page


def test_partner_posts_progress_for_its_institution(
    client, partner_user, projects, foreign_partner
):
    project = projects["progress"]
    login(client, partner_user)
    url = reverse("portal:project", args=[project.code])
    response = client.post(url, {"note": "首批班列已发运", "reported_on": "2026-11-30"})
    assert response.status_code == 302
    update = ProgressUpdate.objects.get(project=project)
    assert update.partner == foreign_partner
    assert update.author == partner_user
    assert "首批班列已发运" in client.get(url).content.decode()


def test_progress_form_errors_leave_nothing_written(client, partner_user, projects):
    project = projects["progress"]
    login(client, partner_user)
    url = reverse("portal:project", args=[project.code])
    response = client.post(url, {"note": "", "reported_on": "2999-01-01"})
    assert response.status_code == 200
    response = client.post(url, {"note": "future", "reported_on": "2999-01-01"})
    assert response.status_code == 200
    assert not ProgressUpdate.objects.exists()


def test_no_progress_form_before_selection(client, partner_user, projects):
    login(client, partner_user)
    url = reverse("portal:project", args=[projects["submitted"].code])
    assert 'id="progress-form"' not in client.get(url).content.decode()
    assert client.post(url, {"note": "too early", "reported_on": "2026-01-01"}).status_code == 302
    assert not ProgressUpdate.objects.exists()


def test_other_partner_cannot_reach_the_project(client, other_partner, projects):
    login(client, other_partner)
    assert (
        client.get(reverse("portal:project", args=[projects["progress"].code])).status_code == 404
    )
    assert projects["progress"].code not in client.get(reverse("portal:projects")).content.decode()


def test_password_reset_by_email(client, partner_user):
    response = client.post(
        reverse("portal:password_reset"), {"email": partner_user.email}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/portal/password-reset/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    response = client.get(link.group(1), follow=True)
    assert response.status_code == 200
    form_url = response.redirect_chain[-1][0]
    response = client.post(
        form_url, {"new_password1": "a-New-pass-2026!", "new_password2": "a-New-pass-2026!"}
    )
    assert response.status_code == 302
    partner_user.refresh_from_db()
    assert partner_user.check_password("a-New-pass-2026!")


def test_password_reset_for_unknown_address_sends_nothing(client, db):
    response = client.post(reverse("portal:password_reset"), {"email": "nobody@example.org"})
    assert response.status_code == 302  # no hint whether the address exists
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [("lo-LA,lo;q=0.9", "en"), ("th", "en"), ("kk,ru;q=0.8", "en"), ("zh-CN,zh;q=0.9", "zh-hans"),
     ("en-US", "en"), ("", "zh-hans")],
)  # fmt: skip
def test_any_other_browser_language_gets_english(client, db, header, expected):
    extra = {"HTTP_ACCEPT_LANGUAGE": header} if header else {}
    response = client.get(reverse("portal:login"), **extra)
    assert response.headers["Content-Language"] == expected


def test_api_errors_in_english_for_a_thai_browser(client, db):
    response = client.get("/api/v1/projects/", HTTP_ACCEPT_LANGUAGE="th-TH,th;q=0.9")
    assert response.status_code == 401
    assert response.headers["Content-Language"] == "en"
    assert "credentials" in response.json()["error"]["message"].lower()


def test_language_switch_is_remembered(client, partner_user):
    login(client, partner_user)
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("portal:projects")},
        HTTP_ACCEPT_LANGUAGE="th",
    )  # fmt: skip
    assert response.status_code == 302
    cookie = response.cookies["django_language"]
    assert cookie["max-age"] == 365 * 24 * 3600
    page = client.get(reverse("portal:projects"), HTTP_ACCEPT_LANGUAGE="th")
    assert page.headers["Content-Language"] == "zh-hans"


def test_email_url_sets_the_default_mailer():
    from registry.email_url import registry_mailer

    mailer = registry_mailer("smtp://reg%40office:p%3Ass@mail.example.org:587?tls=1")
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {
        "host": "mail.example.org", "port": 587, "username": "reg@office", "password": "p:ss",
        "use_tls": True, "use_ssl": False, "timeout": 20,
    }  # fmt: skip
    assert registry_mailer("smtp+ssl://mail.example.org")["OPTIONS"]["port"] == 465
    assert registry_mailer("console://")["BACKEND"].endswith("console.EmailBackend")
    with pytest.raises(ValueError, match="unknown scheme"):
        registry_mailer("pigeon://coop")
