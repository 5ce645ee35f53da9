"""The catalogue check: every message the source marks for translation (Python and
templates of registry, partners and projects, read with Babel as makemessages reads
them) has a Chinese translation, and the desk's pages in Chinese show no English
interface text from the known list (tests/ui_text.py), the browsable API included."""

from pathlib import Path

import pytest
from django.urls import reverse

from registry import i18n
from tests import ui_text

PO = Path(i18n.LOCALE_DIR) / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_marked_message_is_in_the_chinese_catalogue():
    assert i18n.missing_from_catalogue(PO) == []


def test_the_check_finds_what_the_catalogue_lacks(tmp_path):
    app = tmp_path / "projects"
    (app / "templates" / "x").mkdir(parents=True)
    (app / "module.py").write_text(
        "from django.utils.translation import gettext_lazy as _, pgettext\n"
        "A = _('No Chinese for this one yet')\n"
        "B = pgettext('screening', 'Nor for this')\n"
        "C = _('reviews')\n"
    )
    (app / "templates" / "x" / "page.html").write_text(
        "{% load i18n %}<p>{% translate 'A template line nobody translated' %}</p>"
        "{% blocktranslate with n=3 %}Only {{ n }} left, capped at 200%{% endblocktranslate %}"
        "<p>{% translate 'Home' %}</p>"
    )
    found = {line.split(": ", 1)[1] for line in i18n.missing_from_catalogue(PO, tmp_path)}
    # "reviews" is ours and "Home" is Django's admin catalogue's: both translated.
    assert found == {
        "No Chinese for this one yet",
        "Nor for this",
        "A template line nobody translated",
        "Only %(n)s left, capped at 200%%",
    }


def test_the_catalogue_holds_no_translation_nobody_asks_for():
    assert i18n.stale_in_catalogue(PO) == []


def test_the_stale_check_keeps_live_and_package_messages(tmp_path):
    app = tmp_path / "projects"
    app.mkdir()
    (app / "module.py").write_text(
        "from django.utils.translation import gettext_lazy as _lazy\nA = _lazy('quarter')\n"
    )
    po = tmp_path / "django.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        'msgid "quarter"\nmsgstr "季度"\n\n'
        # Django's admin message, translated again by the registry's catalogue.
        'msgid "Filter by %(field_name)s"\nmsgstr "按%(field_name)s筛选"\n\n'
        'msgid "A message no code marks"\nmsgstr "无人使用"\n',
        encoding="utf-8",
    )
    assert i18n.stale_in_catalogue(po, tmp_path) == ["A message no code marks"]


def test_known_english_text_is_found_as_whole_phrases():
    assert ui_text.problems("筛选 Filter by 状态 · Api Root") == ["Filter by", "Api Root"]
    # A word inside another is no finding ("Homepage" is not "Home").
    assert ui_text.problems("Homepage 项目") == []


@pytest.fixture
def screening_project(project, officer, manager, reviewer):
    from projects import services
    from tests.test_reviews_support import review

    services.project_transition(project=project, actor=officer, action="submit")
    services.project_transition(project=project, actor=manager, action="start_screening")
    project.refresh_from_db()
    review(project, reviewer)
    return project


def chinese_page(client, url: str, **headers) -> str:
    response = client.get(url, headers={"accept-language": "zh-hans", **headers})
    assert response.status_code == 200, url
    return ui_text.visible_text(response.content.decode())


def test_desk_pages_in_chinese_show_no_english_interface_text(
    client, officer, manager, reviewer, second_reviewer, screening_project
):
    project = screening_project
    client.force_login(manager)
    pages = [
        reverse("admin:index"),
        reverse("admin:projects_project_changelist"),
        reverse("admin:projects_project_changelist") + "?status__exact=screening",
        reverse("admin:projects_project_change", args=[project.pk]),
        reverse("admin:projects_project_history", args=[project.pk]),
        reverse("admin:projects_project_screening_queue"),
        reverse("admin:projects_review_changelist"),
        reverse("admin:projects_statuschange_changelist"),
        reverse("admin:projects_supportdecision_add"),
        reverse("admin:projects_progressupdate_add"),
        reverse("admin-dashboard"),
    ]
    for url in pages:
        assert ui_text.problems(chinese_page(client, url)) == [], url
    client.force_login(officer)
    assert ui_text.problems(chinese_page(client, reverse("admin:projects_project_add"))) == []
    client.force_login(second_reviewer)
    review_form = reverse("admin:projects_review_add") + f"?project={project.pk}"
    assert ui_text.problems(chinese_page(client, review_form)) == []


@pytest.mark.parametrize(
    ("language", "root", "projects"),
    [("zh-hans", "API 根目录", "项目"), ("en", "API root", "Projects")],
)
def test_browsable_api_pages_are_named_in_the_request_language(
    client, manager, project, language, root, projects
):
    client.force_login(manager)
    headers = {"accept": "text/html", "accept-language": language}
    body = client.get("/api/v1/", headers=headers).content.decode()
    assert f"<h1>{root}</h1>" in body
    assert "Api Root" not in body
    body = client.get("/api/v1/projects/", headers=headers).content.decode()
    assert f"<h1>{projects}</h1>" in body
    assert "Project List" not in body
    body = client.get(f"/api/v1/projects/{project.code}/", headers=headers).content.decode()
    assert "Project Instance" not in body
    if language == "zh-hans":
        assert ui_text.problems(ui_text.visible_text(body)) == []
