"""Admin import: upload → preview (dry run) → confirm, for projects and partners.

The tests serve their own admin site (this module is the URL configuration) with minimal
model admins that mix in the import mixins, so they exercise the mixins exactly as
`projects.admin.project.ProjectAdmin` and the partner admin use them, independent of those
admins' other features.
"""

import csv
import io

import pytest
from django.contrib import admin
from django.urls import path, reverse

from partners.admin_import import PartnerImportAdminMixin
from partners.models import Partner
from projects.admin.importing import ImportAdminMixin
from projects.importing.template import PROJECT_COLUMNS
from projects.models import Project
from registry import urls as registry_urls
from registry.import_admin import SESSION_KEY
from registry.jobs.models import Job

site = admin.AdminSite(name="admin")


class ProjectImportAdmin(ImportAdminMixin, admin.ModelAdmin):
    pass


class PartnerImportAdmin(PartnerImportAdminMixin, admin.ModelAdmin):
    pass


site.register(Project, ProjectImportAdmin)
site.register(Partner, PartnerImportAdmin)
# The admin's templates link to the language switch, the dashboard and the API.
urlpatterns = [path("admin/", site.urls), *registry_urls.urlpatterns]

pytestmark = [pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def kept_files(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        # Admin pages without a collected static manifest.
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "imports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "imports")},
        },
    }
    settings.LANGUAGE_CODE = "en"
    return tmp_path / "imports"


def upload(name: str, rows, headers=None) -> io.BytesIO:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers or [c.header for c in PROJECT_COLUMNS])
    writer.writerows(rows)
    data = io.BytesIO(buffer.getvalue().encode("gb18030"))
    data.name = name
    return data


def project_row(**values):
    defaults = {"title_zh": "中老铁路冷链物流班列", "lead_unit": "广西国际博览事务局"}
    defaults.update(values)
    return [defaults.get(c.key, "") for c in PROJECT_COLUMNS]


def test_upload_preview_confirm(client, officer, lead_unit, kept_files):
    client.force_login(officer)
    url = reverse("admin:projects_project_import")
    assert client.get(url).status_code == 200
    rows = [
        project_row(title_zh=f"项目{n}", countries="老挝\uff1a60\uff1b泰国\uff1a40")
        for n in range(3)
    ]
    preview = client.post(url, {"file": upload("p.csv", rows), "encoding": "auto"})
    assert preview.status_code == 200
    assert preview.context["report"].created == 3
    assert preview.context["report"].encoding == "gb18030"
    assert b"3 / 3" in preview.content
    assert Project.objects.count() == 0
    token = preview.context["signed_token"]
    assert token and len(list(kept_files.iterdir())) == 1

    done = client.post(reverse("admin:projects_project_import_confirm"), {"token": token})
    # The commit is a background job (run at once by the tests' task backend); the
    # redirect leads to its progress page.
    job = Job.objects.get()
    assert done.status_code == 302 and done.url == reverse("job-page", args=[job.pk])
    assert job.owner == officer and job.status == Job.Status.SUCCEEDED
    assert (job.rows_done, job.rows_total, job.result["created"]) == (3, 3, 3)
    assert job.payload == b""
    assert Project.objects.count() == 3
    project = Project.objects.first()
    assert project.history.get().history_user == officer
    # The kept file is gone and the token cannot be used twice.
    assert list(kept_files.iterdir()) == []
    again = client.post(reverse("admin:projects_project_import_confirm"), {"token": token})
    assert again.status_code == 302 and Project.objects.count() == 3


def test_preview_with_errors_offers_no_confirm(client, officer, lead_unit, kept_files):
    client.force_login(officer)
    rows = [project_row(), project_row(countries="XX")]
    preview = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload("p.csv", rows), "encoding": "auto"},
    )
    report = preview.context["report"]
    assert [(e.row, e.column) for e in report.errors] == [(3, "F 国家及比例 countries")]
    assert preview.context["signed_token"] == "" and b'name="token"' not in preview.content
    assert b"XX" in preview.content
    assert Project.objects.count() == 0 and not kept_files.exists()


def test_unreadable_file_is_a_form_error(client, officer):
    client.force_login(officer)
    data = io.BytesIO("title_en\nCafé, résumé\n".encode("latin-1"))
    data.name = "p.csv"
    response = client.post(
        reverse("admin:projects_project_import"), {"file": data, "encoding": "auto"}
    )
    assert response.status_code == 200
    assert "Unknown encoding" in str(response.context["form"].errors["file"])


def test_oversize_upload_is_refused(client, officer, settings):
    settings.REGISTRY_IMPORT_MAX_BYTES = 100
    client.force_login(officer)
    rows = [project_row(title_zh=f"项目{n}") for n in range(10)]
    response = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload("p.csv", rows), "encoding": "auto"},
    )
    assert "largest file" in str(response.context["form"].errors["file"])


def test_token_of_another_session_is_refused(client, officer, lead_unit, other_officer):
    client.force_login(officer)
    preview = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload("p.csv", [project_row()]), "encoding": "auto"},
    )
    token = preview.context["signed_token"]
    client.force_login(other_officer)  # a new session
    response = client.post(reverse("admin:projects_project_import_confirm"), {"token": token})
    assert response.status_code == 302 and Project.objects.count() == 0
    client.force_login(officer)
    forged = client.post(reverse("admin:projects_project_import_confirm"), {"token": "abc"})
    assert forged.status_code == 302 and Project.objects.count() == 0


def test_commit_reruns_the_checks(client, officer, lead_unit, foreign_partner):
    """What changed between preview and confirm is caught; nothing is written."""
    client.force_login(officer)
    preview = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload("p.csv", [project_row(partners="老挝工商会")]), "encoding": "auto"},
    )
    Partner.objects.filter(pk=foreign_partner.pk).update(name_zh="老挝国家工商会")
    done = client.post(
        reverse("admin:projects_project_import_confirm"),
        {"token": preview.context["signed_token"]},
    )
    job = Job.objects.get()
    assert done.status_code == 302 and Project.objects.count() == 0
    assert job.status == Job.Status.FAILED and "nothing was written" in job.error
    assert job.result["committed"] is False and job.result["error_rows"] == 1
    assert SESSION_KEY in client.session and client.session[SESSION_KEY] == {}


def test_create_partners_checkbox(client, officer, lead_unit):
    client.force_login(officer)
    rows = [project_row(countries="LA", partners="万象物流:implementing")]
    preview = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload("p.csv", rows), "encoding": "auto", "create_partners": "on"},
    )
    assert preview.context["report"].created_partners
    assert not Partner.objects.filter(name_zh="万象物流").exists()
    client.post(
        reverse("admin:projects_project_import_confirm"),
        {"token": preview.context["signed_token"]},
    )
    assert Partner.objects.filter(name_zh="万象物流", country_id="LA").exists()


def test_who_sees_the_import(client, officer, reviewer, lead_unit):
    client.force_login(officer)
    changelist = client.get(reverse("admin:projects_project_changelist"))
    assert reverse("admin:projects_project_import").encode() in changelist.content
    template = client.get(reverse("admin:projects_project_import_template", args=["xlsx"]))
    assert template.status_code == 200 and template.content[:2] == b"PK"
    codes = client.get(reverse("admin:projects_project_import_codes"))
    assert "logistics-rail" in codes.content.decode("utf-8-sig")
    client.force_login(reviewer)
    assert client.get(reverse("admin:projects_project_import")).status_code == 403
    assert (
        client.get(reverse("admin:projects_project_import_template", args=["csv"])).status_code
        == 403
    )


def test_partner_import_flow(client, manager, officer):
    client.force_login(manager)
    url = reverse("admin:partners_partner_import")
    changelist = client.get(reverse("admin:partners_partner_changelist"))
    assert url.encode() in changelist.content
    data = upload(
        "partners.csv",
        [["万象商会", "", "商会", "老挝"]],
        headers=["中文名称", "英文名称", "类型", "国家"],
    )
    preview = client.post(url, {"file": data, "encoding": "auto"})
    assert preview.context["report"].created == 1
    assert not Partner.objects.filter(name_zh="万象商会").exists()
    client.post(
        reverse("admin:partners_partner_import_confirm"),
        {"token": preview.context["signed_token"]},
    )
    assert Partner.objects.get(name_zh="万象商会").kind == "chamber"


def test_large_preview_runs_in_the_background_then_commits(
    client, officer, lead_unit, kept_files, settings
):
    settings.REGISTRY_BACKGROUND_ROWS = 2
    client.force_login(officer)
    rows = [project_row(title_zh=f"项目{n}", countries="LA") for n in range(3)]
    answer = client.post(
        reverse("admin:projects_project_import"),
        {"file": upload("p.csv", rows), "encoding": "auto"},
    )
    preview = Job.objects.get()
    assert answer.status_code == 302 and answer.url == reverse("job-page", args=[preview.pk])
    assert preview.status == Job.Status.SUCCEEDED and preview.result["committed"] is False
    assert preview.result["created"] == 3 and Project.objects.count() == 0
    # The job page's confirm form posts the signed token of the kept file.
    done = client.post(preview.params["confirm_url"], {"token": preview.params["signed_token"]})
    assert done.status_code == 302 and Project.objects.count() == 3
    commit = Job.objects.exclude(pk=preview.pk).get()
    assert commit.status == Job.Status.SUCCEEDED and commit.result["committed"] is True
