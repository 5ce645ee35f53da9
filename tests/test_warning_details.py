"""A warning's detail in the reader's language: kept as params by the rules and written
through gettext when shown (the API by Accept-Language, the admin list and the project
panel by the page's language, the notices by the recipient's). Warnings raised before
params existed get them from their old English text where it has the rules' form
(migration 0019) and show that text as it is otherwise."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.core import mail
from django.utils import timezone, translation

from projects.models import Project
from projects.notifications.models import Notification
from projects.risk import services as risk_services
from projects.risk.details import describe
from projects.risk.models import Warning
from projects.risk.warnings import compute_warnings
from registry.models import Country
from registry.preferences import set_user_language

API = "/api/v1"
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
migration = importlib.import_module("projects.migrations.0020_warning_params")
# Chinese punctuation is part of the sentence.
LAOS_ZH = "老挝：安全风险很高"  # noqa: RUF001


@pytest.fixture
def running(project):
    Project.objects.filter(pk=project.pk).update(
        status="in_progress", actual_start=TODAY, next_review_due=TODAY - 3 * DAY
    )
    project.refresh_from_db()
    return project


@pytest.fixture
def warned(running, manager, django_capture_on_commit_callbacks):
    """Laos at very high security risk and the project's review overdue, both raised by
    the event and the daily job (notices sent after their commits)."""
    with django_capture_on_commit_callbacks(execute=True):
        risk_services.country_risk_record(
            actor=manager, country=Country.objects.get(pk="LA"), category="security", level=4
        )
    with django_capture_on_commit_callbacks(execute=True):
        compute_warnings()
    return running


def due():
    return (TODAY - 3 * DAY).isoformat()


def test_the_api_writes_the_detail_in_the_requests_language(api_client, warned, manager):
    def details(language):
        response = api_client(manager, language=language).get(
            f"{API}/warnings/?project={warned.code}"
        )
        assert response.status_code == 200
        return {row["kind"]: row for row in response.json()["results"]}

    chinese, english = details("zh-hans"), details("en")
    assert chinese["country_risk"]["detail"] == LAOS_ZH
    assert english["country_risk"]["detail"] == "Laos: security risk very high"
    assert chinese["review_overdue"]["detail"] == f"定期复核应于 {due()} 完成"
    assert english["review_overdue"]["detail"] == f"periodic review was due on {due()}"
    # The facts themselves, the same in both languages, for machines.
    assert (
        chinese["country_risk"]["params"]
        == english["country_risk"]["params"]
        == {
            "country": "LA",
            "country_zh": "老挝",
            "country_en": "Laos",
            "category": "security",
            "level": 4,
        }
    )
    assert english["review_overdue"]["params"] == {"due": due()}


def test_admin_list_and_change_page_in_chinese_for_a_manager(client, warned, manager):
    client.force_login(manager)
    page = client.get("/admin/projects/warning/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert LAOS_ZH in html and f"定期复核应于 {due()} 完成" in html
    assert "security risk very high" not in html and "was due on" not in html
    warning = Warning.objects.get(kind="review_overdue")
    change = client.get(
        f"/admin/projects/warning/{warning.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert f"定期复核应于 {due()} 完成" in change
    english = client.get("/admin/projects/warning/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Laos: security risk very high" in english


def test_project_panel_in_the_pages_language(client, warned, officer):
    client.force_login(officer)
    url = f"/admin/projects/project/{warned.pk}/change/"
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert LAOS_ZH in chinese
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Laos: security risk very high" in english and LAOS_ZH not in english


def test_notices_in_each_recipients_language(
    running, officer, manager, django_capture_on_commit_callbacks
):
    # The officer reads Chinese (the office's default), the manager chose English.
    set_user_language(user=manager, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        risk_services.country_risk_record(
            actor=manager, country=Country.objects.get(pk="LA"), category="security", level=4
        )
    notice = Notification.objects.get(recipient=officer, kind="warning_raised")
    assert LAOS_ZH in notice.body
    (email,) = [m for m in mail.outbox if m.to == [officer.email]]
    assert LAOS_ZH in email.body
    from django.core.management import call_command

    with django_capture_on_commit_callbacks(execute=True):
        call_command("notify_daily_digest", verbosity=0)
    digest = Notification.objects.get(recipient=manager, kind="daily_digest")
    assert f"{running.code} country risk high: Laos: security risk very high" in digest.body


@pytest.mark.parametrize(
    ("kind", "params", "english", "chinese"),
    [
        ("no_progress", {"last_update": "2026-01-05"}, "last progress update on 2026-01-05",
         "最近一次进展更新于 2026-01-05"),
        ("no_progress", {"last_update": None}, "no progress update yet", "尚无进展更新"),
        ("support_expiring", {"valid_until": "2026-02-01"},
         "support decision valid until 2026-02-01", "支持决定有效期至 2026-02-01"),
        ("end_passed", {"planned_end": "2025-12-31"}, "planned end was 2025-12-31",
         "计划结束日期为 2025-12-31"),
        ("under_target", {"actual": "79", "target": "100.5"},
         "actual 79 against a target of 100.5", "实际值 79，目标值 100.5"),  # noqa: RUF001
        ("dispute_open", {"opened_on": "2025-03-01"}, "dispute open since 2025-03-01",
         "争议自 2025-03-01 起未解决"),
    ],
)  # fmt: skip
def test_each_kinds_sentence_in_both_languages(kind, params, english, chinese):
    with translation.override("en"):
        assert describe(kind, params, "old") == english
    with translation.override("zh-hans"):
        assert describe(kind, params, "old") == chinese


def test_params_that_do_not_fit_fall_back_to_the_stored_text():
    with translation.override("zh-hans"):
        assert describe("review_overdue", None, "due 2025-01-01") == "due 2025-01-01"
        assert describe("review_overdue", {"date": "x"}, "due 2025-01-01") == "due 2025-01-01"
        assert describe("unknown_kind", {"due": "x"}, "text") == "text"


# --- Warnings raised before params ------------------------------------------------------


def old_warning(project, kind, detail, subject=""):
    """A warning as the rules wrote it before params: English text only."""
    return Warning.objects.create(
        kind=kind, severity=2, project=project, subject=subject, detail=detail
    )


@pytest.mark.parametrize(
    ("kind", "detail", "params"),
    [
        ("country_risk", "LA security very_high", {"country": "LA", "country_zh": "老挝",
         "country_en": "Laos", "category": "security", "level": 4}),
        ("no_progress", "last update 2026-01-05", {"last_update": "2026-01-05"}),
        ("no_progress", "last update -", {"last_update": None}),
        ("support_expiring", "valid until 2026-02-01", {"valid_until": "2026-02-01"}),
        ("review_overdue", "due 2026-02-01", {"due": "2026-02-01"}),
        ("end_passed", "planned end 2025-12-31", {"planned_end": "2025-12-31"}),
        ("under_target", "actual 79.5 / target 100", {"actual": "79.5", "target": "100"}),
        ("dispute_open", "open since 2025-03-01", {"opened_on": "2025-03-01"}),
        ("country_risk", "XX security high", None),  # no such country
        ("review_overdue", "überfällig", None),  # not the rules' form
        ("end_passed", "", None),
    ],
)  # fmt: skip
def test_migration_reads_params_back_from_the_old_text(running, kind, detail, params):
    warning = old_warning(running, kind, detail)
    migration.fill_params(apps, None)
    warning.refresh_from_db()
    assert warning.params == params
    assert warning.detail == detail  # the old text stays, as the fallback


def test_old_warnings_keep_their_cause_and_unreadable_text_shows_as_written(
    client, running, manager
):
    # The review is overdue: the rule's params equal those read back from the old text,
    # so the daily job keeps the warning as it is (no change, no history row).
    readable = old_warning(running, "review_overdue", f"due {due()}")
    unreadable = old_warning(running, "end_passed", "planned end sometime", subject="x")
    migration.fill_params(apps, None)
    history_before = Warning.history.filter(id=readable.pk).count()
    counts = compute_warnings(kinds=["review_overdue"])
    assert counts["review_overdue"] == {"raised": 0, "resolved": 0, "kept": 1}
    assert Warning.history.filter(id=readable.pk).count() == history_before
    client.force_login(manager)
    html = client.get("/admin/projects/warning/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"定期复核应于 {due()} 完成" in html
    assert "planned end sometime" in html
    unreadable.refresh_from_db()
    assert unreadable.params is None
