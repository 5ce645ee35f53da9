"""The screening desk's project list: shares and amounts read as people write them,
range and dropdown filters, and Chinese pages without English interface text."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from projects import workflow
from projects.admin.display import amount_html, share_text, short_amount
from projects.models import Review
from tests import factories

CHANGELIST = "admin:projects_project_changelist"


@pytest.mark.parametrize(
    ("share", "text"),
    [
        (Decimal("100.00"), "100"),
        (Decimal("50.00"), "50"),
        (Decimal("1E+2"), "100"),
        (Decimal("33.33"), "33.33"),
        (Decimal("12.50"), "12.5"),
        (None, ""),
    ],
)
def test_share_text_never_shows_an_exponent(share, text):
    assert share_text(share) == text


@pytest.mark.parametrize(
    ("language", "value", "short"),
    [
        ("zh-hans", Decimal("2632000000.00"), "26.32亿"),
        ("zh-hans", Decimal("1000000.00"), "100万"),
        ("zh-hans", Decimal("9999.50"), "9,999.50"),
        ("en", Decimal("2632000000.00"), "2,632,000,000.00"),
    ],
)
def test_short_amount_in_each_language(language, value, short):
    assert short_amount(value, language) == short


def test_amount_keeps_the_exact_figure_on_hover():
    with translation.override("zh-hans"):
        html = amount_html(Decimal("2632000000.00"), "CNY")
    assert 'title="2,632,000,000.00 CNY"' in html
    assert ">26.32亿 CNY<" in html


def test_changelist_shows_shares_and_amounts_readably(client, manager, lead_unit):
    factories.ProjectFactory(
        lead_unit=lead_unit,
        countries=[("VN", 100)],
        estimated_value=Decimal("2632000000.00"),
        currency="CNY",
    )
    client.force_login(manager)
    with translation.override("zh-hans"):
        response = client.get(reverse(CHANGELIST), headers={"accept-language": "zh-hans"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "越南 100%" in body
    assert "E+" not in body
    assert "26.32亿 CNY" in body
    assert 'title="2,632,000,000.00 CNY"' in body
    assert "projects/admin/changelist.css" in body


def test_value_and_date_range_filters(client, manager, lead_unit):
    small = factories.ProjectFactory(
        lead_unit=lead_unit, estimated_value=Decimal("500.00"), planned_start=date(2025, 1, 10)
    )
    large = factories.ProjectFactory(
        lead_unit=lead_unit,
        estimated_value=Decimal("5000000.00"),
        planned_start=date(2026, 3, 1),
    )
    client.force_login(manager)
    url = reverse(CHANGELIST)

    response = client.get(url, {"estimated_value__gte": "1000", "estimated_value__lte": ""})
    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {large.pk}

    response = client.get(
        url, {"planned_start__gte": "2025-01-01", "planned_start__lte": "2025-12-31"}
    )
    assert {row.pk for row in response.context["cl"].result_list} == {small.pk}

    # The range form keeps the other filters as hidden fields.
    response = client.get(url, {"status__exact": "draft", "planned_start__gte": "2025-01-01"})
    assert 'type="hidden" name="status__exact" value="draft"' in response.content.decode()


def test_created_at_range_includes_its_last_day(client, manager, project):
    client.force_login(manager)
    # The day as the office sees it (Asia/Shanghai), which the __date lookup uses.
    day = timezone.localtime(project.created_at).date().isoformat()
    response = client.get(
        reverse(CHANGELIST), {"created_at__date__gte": day, "created_at__date__lte": day}
    )
    assert [row.pk for row in response.context["cl"].result_list] == [project.pk]


@pytest.mark.parametrize(
    "params",
    [{"estimated_value__gte": "lots"}, {"planned_start__lte": "2025-13-45"}],
)
def test_bad_range_values_give_the_error_page_not_a_500(client, manager, project, params):
    client.force_login(manager)
    response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 302
    assert response.url.endswith("?e=1")


def test_long_filters_are_folded_and_risk_is_a_filter(client, manager, project):
    client.force_login(manager)
    body = client.get(reverse(CHANGELIST)).content.decode()
    assert body.count('class="dropdown-filter"') >= 5
    assert "risk_level__exact=" in body
    assert 'class="range-filter"' in body


def test_django_strings_missing_from_its_chinese_catalogue_are_translated():
    from django.db.models.fields import BLANK_CHOICE_LABEL
    from django.utils.translation import gettext

    with translation.override("zh-hans"):
        assert str(BLANK_CHOICE_LABEL) == "- 请选择 -"
        assert gettext("Filter by %(field_name)s") % {"field_name": "创建时间"} == "按创建时间筛选"


# --- The dashboard's filters and figures -------------------------------------------------


def test_dashboard_filters_are_labelled_selects_and_date_pickers(client, manager, lead_unit):
    factories.ProjectFactory(
        lead_unit=lead_unit,
        countries=[("LA", 100)],
        estimated_value=Decimal("2632000000.00"),
        currency="CNY",
    )
    client.force_login(manager)
    with translation.override("zh-hans"):
        response = client.get(reverse("admin-dashboard"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "原状态" not in body and "新状态" not in body
    assert "起始日期" in body and "截止日期" in body
    assert 'type="date" name="period_start"' in body
    assert '<select name="country_group"' in body
    assert '<select name="sector"' in body
    # The lead unit is searched (the admin's Select2), not listed.
    assert 'name="lead_unit"' in body and "admin-autocomplete" in body
    assert f'<option value="{lead_unit.pk}"' not in body
    with translation.override("zh-hans"):
        chosen = client.get(reverse("admin-dashboard"), {"lead_unit": lead_unit.pk})
    assert f'<option value="{lead_unit.pk}" selected>{lead_unit.name_zh}</option>' in (
        chosen.content.decode()
    )
    assert "2632000000.00" not in body
    assert 'title="2,632,000,000.00 CNY"' in body
    assert '<ol class="breadcrumbs">' in body


def test_dashboard_filter_by_name_still_checks_the_code(client, manager):
    client.force_login(manager)
    response = client.get(reverse("admin-dashboard"), {"country_group": "东盟"})
    assert response.status_code == 400
    assert response.context["filter_errors"]


def test_selection_rate_is_a_percentage():
    from projects.templatetags.desk import percent

    assert percent(0.8667) == "86.67%"
    assert percent(1.0) == "100%"
    assert percent(None) == "-"


# --- Raw edges -----------------------------------------------------------------------------


def test_officer_sees_no_screening_queue_or_dashboard_button(client, officer, manager):
    client.force_login(officer)
    body = client.get(reverse(CHANGELIST)).content.decode()
    queue = reverse("admin:projects_project_screening_queue")
    assert queue not in body
    assert client.get(queue).status_code == 403
    client.force_login(manager)
    assert queue in client.get(reverse(CHANGELIST)).content.decode()


def test_no_view_site_link_back_to_the_admin(client, manager):
    client.force_login(manager)
    body = client.get(reverse("admin:index")).content.decode()
    assert 'href="/"' not in body


def test_project_history_reads_in_words_and_is_folded(client, officer, project):
    from projects import services

    services.project_transition(project=project, actor=officer, action="submit")
    client.force_login(officer)
    with translation.override("zh-hans"):
        body = client.get(reverse("admin:projects_project_change", args=[project.pk])).content
    body = body.decode()
    assert '<details class="module" id="project-history">' in body
    with translation.override("zh-hans"):
        submit = str(workflow.BY_NAME["submit"].label)
    assert submit != "submit"
    assert f"<strong>{submit}</strong>" in body
    assert ": created" not in body and ": changed" not in body
    assert "记录已创建" in body


def test_history_list_has_no_raw_reasons_nor_refused_links(client, officer, manager, project):
    from projects import services

    services.project_transition(project=project, actor=officer, action="submit")
    client.force_login(manager)
    url = reverse("admin:projects_project_history", args=[project.pk])
    with translation.override("zh-hans"):
        body = client.get(url).content.decode()
    assert "transition:" not in body
    assert "流程操作" in body
    assert "/admin/auth/user/" not in body
    # The version pages are refused (reverting would bypass the services): not linked.
    for record in project.history.all():
        version = reverse("admin:projects_project_simple_history", args=[project.pk, record.pk])
        assert version not in body
        assert client.get(version).status_code == 403


def test_support_without_currency_says_so_in_words(client, manager, project):
    from tests.test_reviews_support import in_status

    project = in_status(project, "selected")
    client.force_login(manager)
    with translation.override("zh-hans"):
        response = client.post(
            reverse("admin:projects_supportdecision_add"),
            {"project": project.pk, "kind": "funding", "amount": "100", "decided_on": "2026-05-01"},
        )
    body = response.content.decode()
    assert response.status_code == 200
    assert "support_amount_has_currency" not in body
    assert "请填写金额的币种。" in body
    assert '<select name="currency"' in body and '<option value="CNY">' in body


def test_officer_of_one_unit_gets_it_pre_filled(client, officer, lead_unit):
    client.force_login(officer)
    response = client.get(reverse("admin:projects_project_add"))
    assert response.context["adminform"].form.initial["lead_unit"] == lead_unit.pk
    assert '<select name="currency"' in response.content.decode()


# --- Reviewing without anchoring -----------------------------------------------------------


@pytest.fixture
def in_screening(project):
    from tests.test_reviews_support import in_status

    return in_status(project, "screening")


def test_reviewer_sees_no_other_score_of_the_round_before_their_own(
    client, reviewer, second_reviewer, manager, in_screening
):
    from tests.test_reviews_support import review

    review(in_screening, reviewer)
    first = in_screening.reviews.get()
    queue = reverse("admin:projects_project_screening_queue")
    shown = f"{first.weighted_score:.2f}"

    client.force_login(second_reviewer)
    body = client.get(queue).content.decode()
    assert shown not in body
    reviews = client.get(reverse("admin:projects_review_changelist"))
    assert list(reviews.context["cl"].result_list) == []
    # Its page is out of reach too (the admin sends an unknown object back to the index).
    page = client.get(reverse("admin:projects_review_change", args=[first.pk]))
    assert page.status_code == 302

    client.force_login(manager)
    assert shown in client.get(queue).content.decode()

    # Once the second reviewer has reviewed, both scores are theirs to see.
    review(in_screening, second_reviewer)
    client.force_login(second_reviewer)
    row = client.get(queue).context["rows"][0]
    assert row["average_score"] is not None
    assert row["average_score"] == pytest.approx(
        sum(r.weighted_score for r in in_screening.reviews.all()) / 2
    )
    reviews = client.get(reverse("admin:projects_review_changelist"))
    assert len(reviews.context["cl"].result_list) == 2


def test_review_form_has_no_preselected_recommendation_and_returns_to_the_queue(
    client, reviewer, in_screening
):
    from tests.test_reviews_support import SCORES

    client.force_login(reviewer)
    add = reverse("admin:projects_review_add")
    form = client.get(add, {"project": in_screening.pk}).context["form"]
    assert form["recommendation"].value() in (None, "")
    assert form.fields["recommendation"].choices[0][0] == ""

    # Without a recommendation: refused, nothing saved.
    data = {"project": in_screening.pk, **SCORES, "comment": "ok", "conflict_declaration": "none"}
    response = client.post(add, data)
    assert response.status_code == 200 and "recommendation" in response.context["form"].errors
    assert not in_screening.reviews.exists()

    response = client.post(add, {**data, "recommendation": "select"})
    assert response.status_code == 302
    assert response.url == reverse("admin:projects_project_screening_queue")
    assert in_screening.reviews.count() == 1


# --- The decision page -------------------------------------------------------------------


def change_page(client, project):
    with translation.override("zh-hans"):
        return client.get(reverse("admin:projects_project_change", args=[project.pk]))


def test_draft_shows_what_submit_still_needs(client, officer, lead_unit):
    draft = factories.ProjectFactory(lead_unit=lead_unit, countries=[("LA", 60)])
    client.force_login(officer)
    response = change_page(client, draft)
    body = response.content.decode()
    assert 'id="submit-checklist"' in body
    checklist = response.context["decision"]["checklist"]
    with translation.override("en"):
        missing = [str(item["label"]) for item in checklist if not item["done"]]
        done = [str(item["label"]) for item in checklist if item["done"]]
    # Countries at 60 % and no sector: those two are missing; the lead unit is there.
    assert "a lead unit" in done
    assert "at least one sector" in missing
    assert "shares that add up to 100" in missing
    # A complete draft: everything ticked, and the action explained in words.
    ready = factories.ProjectFactory(
        lead_unit=lead_unit, countries=[("LA", 100)], sectors=[("logistics-rail", 100)]
    )
    response = change_page(client, ready)
    assert all(item["done"] for item in response.context["decision"]["checklist"])
    assert "将完整的草稿提交入库" in response.content.decode()


def test_manager_sees_the_round_side_by_side_and_can_record_support(
    client, reviewer, second_reviewer, manager, in_screening
):
    from tests.test_reviews_support import in_status, review

    review(in_screening, reviewer)
    review(in_screening, second_reviewer, scores=dict.fromkeys(Review.CRITERIA, 2))
    client.force_login(manager)
    response = change_page(client, in_screening)
    body = response.content.decode()
    panel = response.context["decision"]["round"]
    scores = sorted(float(r.weighted_score) for r in in_screening.reviews.all())
    assert panel["average"] == pytest.approx(round(sum(scores) / 2, 2))
    assert panel["spread"] == pytest.approx(round((scores[1] - scores[0]) / 2, 2))
    assert 'id="round-reviews"' in body and reviewer.username in body
    assert "离散度" in body

    selected = in_status(in_screening, "selected")
    body = change_page(client, selected).content.decode()
    add = reverse("admin:projects_supportdecision_add")
    assert f"{add}?project={selected.pk}" in body
    assert "记录支持决定" in body


def test_officer_sees_no_reviewer_names_or_scores(client, officer, reviewer, in_screening):
    from tests.test_reviews_support import review

    review(in_screening, reviewer)
    client.force_login(officer)
    response = change_page(client, in_screening)
    assert response.context["decision"]["round"] is None
    assert 'id="round-reviews"' not in response.content.decode()


def test_review_form_says_what_each_level_means(client, reviewer, in_screening):
    client.force_login(reviewer)
    with translation.override("zh-hans"):
        body = client.get(
            reverse("admin:projects_review_add"), {"project": in_screening.pk}
        ).content.decode()
    for level in ("1: 不符合", "3: 一般", "5: 优秀"):
        assert body.count(level) == len(Review.CRITERIA)


def test_review_form_shows_the_summary_beside_the_rubric(client, reviewer, in_screening):
    from projects import review_rubric

    client.force_login(reviewer)
    with translation.override("zh-hans"):
        response = client.get(reverse("admin:projects_review_add"), {"project": in_screening.pk})
        descriptions = [str(d) for d in review_rubric.DESCRIPTIONS["feasibility"]]
    body = response.content.decode()
    assert response.context["summary_project"] == in_screening
    summary = body[body.index('id="review-summary"') : body.index('id="rubric"')]
    assert in_screening.code in summary and in_screening.summary_zh in summary
    assert "老挝 100%" in summary
    # Each level of each criterion says what it means for that criterion.
    for description in descriptions:
        assert description in body
    assert "checked" not in body[body.index('id="rubric"') :]


def test_review_form_without_a_project_in_screening_shows_no_summary(client, reviewer, project):
    client.force_login(reviewer)
    response = client.get(reverse("admin:projects_review_add"), {"project": project.pk})
    assert response.context["summary_project"] is None
    response = client.get(reverse("admin:projects_review_add"), {"project": "x1"})
    assert response.status_code == 200 and response.context["summary_project"] is None


def test_read_only_project_page_gives_the_exact_amount(client, manager, officer, project):
    from projects import services

    services.project_transition(project=project, actor=officer, action="submit")
    client.force_login(manager)
    body = client.get(reverse("admin:projects_project_change", args=[project.pk])).text
    assert "1,000,000.00 CNY" in body
    assert "1000000.00" not in body


def test_support_and_progress_go_back_to_the_project_page(client, manager, officer, project):
    from tests.test_reviews_support import in_status

    project = in_status(project, "in_progress")
    page = reverse("admin:projects_project_change", args=[project.pk])
    client.force_login(officer)
    assert f"{reverse('admin:projects_progressupdate_add')}?project={project.pk}" in (
        client.get(page).text
    )
    response = client.post(
        reverse("admin:projects_progressupdate_add"),
        {"project": project.pk, "reported_on": "2026-05-01", "note": "首列冷链班列发车"},
    )
    assert response.status_code == 302 and response.url == page
    assert "首列冷链班列发车" in client.get(page).text

    client.force_login(manager)
    response = client.post(
        reverse("admin:projects_supportdecision_add"),
        {
            "project": project.pk,
            "kind": "funding",
            "amount": "1500000",
            "currency": "CNY",
            "decided_on": "2026-05-01",
        },
    )
    assert response.status_code == 302 and response.url == page


@pytest.mark.parametrize(
    ("language", "cny"), [("zh-hans", "CNY 人民币"), ("en", "CNY Yuan Renminbi")]
)
def test_support_form_is_styled_and_names_currencies_in_the_page_language(
    client, manager, project, language, cny
):
    from tests.test_reviews_support import in_status

    selected = in_status(project, "selected")
    client.force_login(manager)
    body = client.get(
        reverse("admin:projects_supportdecision_add"),
        {"project": selected.pk},
        headers={"accept-language": language},
    ).content.decode()
    assert f'<option value="CNY">{cny}</option>' in body
    # The admin's form styles: aligned rows, the date pickers' icons.
    assert "admin/css/forms" in body
