"""A reviewer declares a conflict of interest with every review: through the service, the
API and the admin's review form. A declared conflict keeps the review on record, flagged
on the manager's decision panel, but out of the round's average, spread and quorum."""

import pytest
from django.urls import reverse
from django.utils import translation

from projects import services, workflow
from projects.errors import InvalidData
from projects.models import Review, Status
from tests.test_api_projects import API, etag
from tests.test_reviews_support import SCORES, in_status, review

pytestmark = pytest.mark.usefixtures("fast_password_hasher")


@pytest.fixture
def in_screening(project):
    return in_status(project, Status.SCREENING)


# --- The service ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declaration", "note", "field"),
    [
        ("", "", "conflict_declaration"),
        ("not_asked", "", "conflict_declaration"),
        ("maybe", "", "conflict_declaration"),
        ("declared", "", "conflict_note"),
        ("declared", "   ", "conflict_note"),
    ],
)
def test_service_refuses_a_missing_or_empty_declaration(
    in_screening, reviewer, declaration, note, field
):
    with pytest.raises(InvalidData) as error:
        review(in_screening, reviewer, conflict_declaration=declaration, conflict_note=note)
    assert field in error.value.errors
    assert not Review.objects.exists()


def test_declared_conflict_is_kept_but_not_counted_for_select(
    in_screening, reviewer, second_reviewer, manager, english
):
    review(in_screening, reviewer)
    conflicted = review(
        in_screening,
        second_reviewer,
        conflict_declaration="declared",
        conflict_note="My institute advised the lead unit in 2025.",
    )
    assert conflicted.conflict_declared
    assert conflicted.conflict_note == "My institute advised the lead unit in 2025."
    assert workflow.current_round_reviews(in_screening) == 1
    # Two reviews on record, one that counts: not enough to select.
    with pytest.raises(Exception, match="needs 2 reviews"):
        services.project_transition(project=in_screening, actor=manager, action="select")
    in_screening.refresh_from_db()
    assert in_screening.status == Status.SCREENING


def test_reviews_from_before_declarations_still_count(in_screening, reviewer, second_reviewer):
    review(in_screening, reviewer)
    review(in_screening, second_reviewer)
    Review.objects.update(conflict_declaration=Review.ConflictDeclaration.NOT_ASKED)
    assert workflow.current_round_reviews(in_screening) == 2


# --- The API ------------------------------------------------------------------------------


def post_review(api_client, user, project, language="en", **body):
    return api_client(user, language).post(
        f"{API}/projects/{project.code}/reviews/",
        {**SCORES, "recommendation": "select", **body},
        HTTP_IF_MATCH=etag(project),
    )


@pytest.mark.parametrize(
    ("language", "required"), [("en", "This field is required."), ("zh-hans", "该字段是必填项。")]
)
def test_api_review_without_a_declaration_is_refused(
    api_client, reviewer, in_screening, language, required
):
    response = post_review(api_client, reviewer, in_screening, language)
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["conflict_declaration"] == [required]
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Say what the conflict of interest is."), ("zh-hans", "请说明利益冲突的内容。")],
)
def test_api_declared_conflict_without_a_note_is_refused(
    api_client, reviewer, in_screening, language, message
):
    response = post_review(
        api_client, reviewer, in_screening, language, conflict_declaration="declared"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["conflict_note"] == [message]
    assert not Review.objects.exists()


def test_api_not_asked_cannot_be_declared(api_client, reviewer, in_screening):
    response = post_review(
        api_client, reviewer, in_screening, conflict_declaration="not_asked", conflict_note="x"
    )
    assert response.status_code == 400
    assert "conflict_declaration" in response.json()["error"]["fields"]


def test_api_shows_the_declaration_to_who_reads_reviews(
    api_client, reviewer, manager, officer, partner_user, in_screening
):
    created = post_review(
        api_client,
        reviewer,
        in_screening,
        conflict_declaration="declared",
        conflict_note="曾为牵头单位提供咨询",
    )
    assert created.status_code == 201, created.content
    assert created.json()["conflict_declaration"] == "declared"
    listed = api_client(manager).get(f"{API}/projects/{in_screening.code}/reviews/").json()
    row = listed["results"][0]
    assert (row["conflict_declaration"], row["conflict_note"]) == (
        "declared",
        "曾为牵头单位提供咨询",
    )
    # Officers and partners read no reviews, declarations included.
    for user in (officer, partner_user):
        refused = api_client(user).get(f"{API}/projects/{in_screening.code}/reviews/")
        assert refused.status_code in (403, 404)
        assert "曾为牵头单位提供咨询" not in refused.content.decode()


# --- The admin's review form ------------------------------------------------------------


def review_form_data(project, **extra):
    return {"project": project.pk, **SCORES, "recommendation": "select", "comment": "", **extra}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_admin_review_form_asks_for_the_declaration(client, reviewer, in_screening, language):
    client.force_login(reviewer)
    add = reverse("admin:projects_review_add")
    headers = {"accept-language": language}
    with translation.override(language):
        page = client.get(add, {"project": in_screening.pk}, headers=headers)
        body = page.content.decode()
        assert 'id="conflict-of-interest"' in body
        assert str(Review.ConflictDeclaration.DECLARED.label) in body
        # Nothing declared in advance, and "not asked" is no choice.
        form = page.context["form"]
        assert form["conflict_declaration"].value() in (None, "")
        assert "not_asked" not in dict(form.fields["conflict_declaration"].choices)

        missing = client.post(add, review_form_data(in_screening), headers=headers)
        assert missing.status_code == 200
        assert "conflict_declaration" in missing.context["form"].errors

        no_note = client.post(
            add, review_form_data(in_screening, conflict_declaration="declared"), headers=headers
        )
        assert no_note.status_code == 200
        errors = no_note.context["form"].errors["conflict_note"]
        expected = (
            "请说明利益冲突的内容。"
            if language == "zh-hans"
            else "Say what the conflict of interest is."
        )
        assert errors == [expected]
        assert expected in no_note.content.decode()
        assert not Review.objects.exists()

        saved = client.post(
            add,
            review_form_data(
                in_screening, conflict_declaration="declared", conflict_note="亲属在牵头单位任职"
            ),
        )
    assert saved.status_code == 302
    stored = Review.objects.get()
    assert (stored.conflict_declaration, stored.conflict_note) == ("declared", "亲属在牵头单位任职")


# --- The decision panel -------------------------------------------------------------------


def change_page(client, project, language="zh-hans"):
    with translation.override(language):
        return client.get(
            reverse("admin:projects_project_change", args=[project.pk]),
            headers={"accept-language": language},
        )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_panel_flags_a_declared_conflict_and_leaves_it_out_of_the_mean(
    client, reviewer, second_reviewer, manager, in_screening, language
):
    review(in_screening, reviewer, scores=dict.fromkeys(Review.CRITERIA, 4))
    review(
        in_screening,
        second_reviewer,
        scores=dict.fromkeys(Review.CRITERIA, 1),
        conflict_declaration="declared",
        conflict_note="Shareholder of the lead unit",
    )
    client.force_login(manager)
    response = change_page(client, in_screening, language)
    body = response.content.decode()
    panel = response.context["decision"]["round"]
    # Only the first review counts: its score is the average, and no spread of one.
    assert panel["average"] == pytest.approx(4.0)
    assert panel["spread"] is None
    assert (panel["counted"], panel["conflicts"]) == (1, 1)
    assert body.count('class="conflict-declared"') >= 2  # its column head and its cell
    assert 'data-declaration="declared"' in body and 'data-declaration="none"' in body
    assert "Shareholder of the lead unit" in body
    with translation.override(language):
        assert str(Review.ConflictDeclaration.DECLARED.label) in body
        assert str(Review.ConflictDeclaration.NONE.label) in body
    assert 'id="conflict-rule"' in body
    if language == "zh-hans":
        assert "利益冲突" in body and "不计入" in body
    else:
        assert "not counted in the average" in body

    # The queue agrees: one review counted, its score the average.
    queue = reverse("admin:projects_project_screening_queue")
    row = client.get(queue).context["rows"][0]
    assert (row["project"].review_count, float(row["average_score"])) == (1, 4.0)


def test_officer_sees_no_declarations_either(
    client, api_client, officer, reviewer, second_reviewer, manager, in_screening
):
    review(
        in_screening,
        reviewer,
        conflict_declaration="declared",
        conflict_note="Shareholder of the lead unit",
    )
    client.force_login(officer)
    body = change_page(client, in_screening).content.decode()
    assert "Shareholder of the lead unit" not in body
    assert reviewer.username not in body
    assert 'id="round-reviews"' not in body
    # Nor in the project's history, on the page or through the API.
    history = api_client(officer).get(f"{API}/projects/{in_screening.code}/history/")
    assert history.status_code == 200
    assert "Shareholder" not in history.content.decode()
    assert reviewer.username not in history.content.decode()

    # A reviewer reads no other score of the current round before their own, there either.
    client.force_login(second_reviewer)
    body = change_page(client, in_screening).content.decode()
    assert "Shareholder of the lead unit" not in body and 'id="round-reviews"' not in body
    # The manager reads it all.
    client.force_login(manager)
    assert "Shareholder of the lead unit" in change_page(client, in_screening).content.decode()
    managed = api_client(manager).get(f"{API}/projects/{in_screening.code}/history/")
    assert "Shareholder of the lead unit" in managed.content.decode()


def test_api_reviewer_reads_no_other_score_of_the_round_before_their_own(
    api_client, reviewer, second_reviewer, manager, in_screening
):
    review(in_screening, reviewer)
    url = f"{API}/projects/{in_screening.code}/reviews/"
    assert api_client(second_reviewer).get(url).json()["count"] == 0
    assert api_client(manager).get(url).json()["count"] == 1
    review(in_screening, second_reviewer)
    assert api_client(second_reviewer).get(url).json()["count"] == 2
