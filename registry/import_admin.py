"""Spreadsheet import in the admin, for any kind of import: upload, dry-run preview,
confirm. The apps say what is imported and by whom by subclassing `ImportAdminViews`
(`projects.admin.importing.ImportAdminMixin`, `partners.admin_import.PartnerImportAdminMixin`),
which add, under the model's admin URL:

    import/                   upload form; a POST runs the dry run and shows the preview
    import/confirm/           POST: runs the same import again and commits it
    import/template.csv|xlsx  the template; import/codes.csv the allowed codes

Between preview and confirm the uploaded file is kept in a storage (`STORAGES["imports"]`
when configured, else a folder in the system temp directory) under a random token. The
token is signed into the confirm form and must also be in the uploader's session, so no
one else can redeem it. Re-posting the file was the alternative: browsers cannot refill a
file input, and carrying a 10 MB file in a hidden field or in the session row would
double every request; a stored file costs one write and is removed after the commit.
"""

import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path, PurePath

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry.importing.columns import codes_csv, template_csv, template_xlsx
from registry.importing.formats import AUTO, ImportFileError, check_size, read_table
from registry.jobs.running import start_job

SESSION_KEY = "registry_imports"
SIGNING_SALT = "registry.import"
UPLOAD_MAX_AGE = timedelta(hours=6)
# Preview tables beyond these sizes are cut; the counts above them are always complete.
MAX_ERRORS_SHOWN = 500
MAX_ROWS_SHOWN = 1000
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

ENCODING_CHOICES = (
    (AUTO, gettext_lazy("detect (UTF-8, UTF-8 with BOM, GB18030)")),
    ("utf-8", "UTF-8"),
    ("gb18030", "GB18030 / GBK"),
)


def import_storage():
    if "imports" in settings.STORAGES:
        return storages["imports"]
    return FileSystemStorage(location=Path(tempfile.gettempdir()) / "registry-imports")


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("file"), help_text=gettext_lazy(".xlsx or .csv, as in the template")
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("encoding (CSV only)"), choices=ENCODING_CHOICES, initial=AUTO
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            check_size(upload.size)
        except ImportFileError as error:
            raise forms.ValidationError(error.message) from None
        return upload


class ImportAdminViews:
    """The views both mixins share; subclasses say what is imported and by whom."""

    import_form_class = ImportForm
    import_columns = ()
    import_title = ""
    # What the background job says it imports, and the `django.tasks` task (taking a job
    # id) that runs the import in a worker; without a task everything runs in the request.
    import_target = ""
    import_task = None

    def may_import(self, user) -> bool:
        raise NotImplementedError

    def run_import(self, table, *, user, commit: bool, options: dict):
        raise NotImplementedError

    def _url_name(self, suffix: str) -> str:
        return f"{self.opts.app_label}_{self.opts.model_name}_{suffix}"

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name=self._url_name("import")),
            path(
                "import/confirm/",
                wrap(self.import_confirm_view),
                name=self._url_name("import_confirm"),
            ),
            path(
                "import/template.<str:file_format>",
                wrap(self.import_template_view),
                name=self._url_name("import_template"),
            ),
            path(
                "import/codes.csv",
                wrap(self.import_codes_view),
                name=self._url_name("import_codes"),
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.may_import(request.user)}
        return super().changelist_view(request, extra_context=extra_context)

    def _check(self, request) -> None:
        if not self.may_import(request.user):
            raise PermissionDenied

    def _context(self, request, **extra) -> dict:
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": self.import_title,
            "url_names": {
                "import": f"admin:{self._url_name('import')}",
                "confirm": f"admin:{self._url_name('import_confirm')}",
                "template": f"admin:{self._url_name('import_template')}",
                "codes": f"admin:{self._url_name('import_codes')}",
                "changelist": f"admin:{self._url_name('changelist')}",
            },
            "columns": self.import_columns,
            **extra,
        }

    # -- upload and preview --

    def import_view(self, request):
        self._check(request)
        form = self.import_form_class(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            data = upload.read()
            options = {k: v for k, v in form.cleaned_data.items() if k != "file"}
            try:
                table = read_table(data, upload.name, options["encoding"])
            except ImportFileError as error:
                form.add_error("file", error.message)
            else:
                if self.import_task and len(table.rows) > settings.REGISTRY_BACKGROUND_ROWS:
                    return self._preview_in_background(request, data, upload.name, options)
                report = self.run_import(table, user=request.user, commit=False, options=options)
                token = self._keep(request, data, upload.name, options) if report.ok else ""
                return self._preview(request, report, token=token, filename=upload.name)
        return TemplateResponse(
            request, "admin/import/upload.html", self._context(request, form=form)
        )

    def _job_params(self, filename: str, options: dict, *, commit: bool) -> dict:
        return {
            "target": self.import_target,
            "filename": filename,
            "encoding": options["encoding"],
            "create_partners": options.get("create_partners", False),
            "commit": commit,
        }

    def _preview_in_background(self, request, data: bytes, filename: str, options: dict):
        """A large file's dry run (20-30 s for 10,000 rows) runs in a worker; its job page
        offers the commit once the dry run found no error."""
        token = self._keep(request, data, filename, options)
        job = start_job(
            kind=f"preview_{self.import_target}",
            task=self.import_task,
            owner=request.user,
            label=_("Preview of the import of %(filename)s") % {"filename": filename},
            payload=data,
            params={
                **self._job_params(filename, options, commit=False),
                "confirm_url": reverse(f"admin:{self._url_name('import_confirm')}"),
                "signed_token": signing.dumps(token, salt=SIGNING_SALT),
            },
        )
        return HttpResponseRedirect(reverse("job-page", args=[job.pk]))

    def _preview(self, request, report, *, token: str, filename: str):
        signed = signing.dumps(token, salt=SIGNING_SALT) if token else ""
        return TemplateResponse(
            request,
            "admin/import/preview.html",
            self._context(
                request,
                report=report,
                filename=filename,
                signed_token=signed,
                errors_shown=report.errors[:MAX_ERRORS_SHOWN],
                errors_hidden=max(0, len(report.errors) - MAX_ERRORS_SHOWN),
                rows_shown=report.results[:MAX_ROWS_SHOWN],
                rows_hidden=max(0, len(report.results) - MAX_ROWS_SHOWN),
            ),
        )

    # -- the kept file --

    def _keep(self, request, data: bytes, filename: str, options: dict) -> str:
        storage = import_storage()
        self._remove_stale(storage)
        token = secrets.token_urlsafe(24)
        suffix = PurePath(filename).suffix.lower()[:10]
        storage.save(f"{token}{suffix}", ContentFile(data))
        kept = request.session.get(SESSION_KEY, {})
        kept[token] = {
            "name": f"{token}{suffix}",
            "filename": filename,
            "options": options,
            "model": self._url_name("import"),
        }
        request.session[SESSION_KEY] = kept
        return token

    def _remove_stale(self, storage) -> None:
        try:
            _dirs, files = storage.listdir("")
        except FileNotFoundError:
            return
        limit = timezone.now() - UPLOAD_MAX_AGE
        for name in files:
            try:
                if storage.get_modified_time(name) < limit:
                    storage.delete(name)
            except (OSError, NotImplementedError):
                continue

    def _redeem(self, request) -> dict | None:
        try:
            token = signing.loads(
                request.POST.get("token", ""),
                salt=SIGNING_SALT,
                max_age=UPLOAD_MAX_AGE.total_seconds(),
            )
        except signing.BadSignature:
            return None
        kept = request.session.get(SESSION_KEY, {})
        entry = kept.get(token) if isinstance(token, str) and _TOKEN.match(token) else None
        if entry is None or entry["model"] != self._url_name("import"):
            return None
        return {"token": token, **entry}

    def _forget(self, request, entry: dict) -> None:
        import_storage().delete(entry["name"])
        kept = request.session.get(SESSION_KEY, {})
        kept.pop(entry["token"], None)
        request.session[SESSION_KEY] = kept

    # -- confirm --

    def import_confirm_view(self, request):
        self._check(request)
        if request.method != "POST":
            return HttpResponseRedirect(reverse(f"admin:{self._url_name('import')}"))
        entry = self._redeem(request)
        storage = import_storage()
        if entry is None or not storage.exists(entry["name"]):
            messages.error(request, _("The uploaded file has expired; upload it again."))
            return HttpResponseRedirect(reverse(f"admin:{self._url_name('import')}"))
        with storage.open(entry["name"], "rb") as handle:
            data = handle.read()
        if self.import_task:
            # The commit runs in a worker (20-30 s for 10,000 rows); the job page follows
            # it with a progress bar and a cancel button.
            job = start_job(
                kind=f"import_{self.import_target}",
                task=self.import_task,
                owner=request.user,
                label=_("Import of %(filename)s") % {"filename": entry["filename"]},
                payload=data,
                params=self._job_params(entry["filename"], entry["options"], commit=True),
            )
            self._forget(request, entry)
            return HttpResponseRedirect(reverse("job-page", args=[job.pk]))
        try:
            table = read_table(data, entry["filename"], entry["options"]["encoding"])
        except ImportFileError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse(f"admin:{self._url_name('import')}"))
        report = self.run_import(table, user=request.user, commit=True, options=entry["options"])
        self._forget(request, entry)
        if not report.committed:
            # The pool or the user's rights changed since the preview: nothing was
            # written; the errors say what to fix before uploading again.
            return self._preview(request, report, token="", filename=entry["filename"])
        messages.success(
            request,
            _("Imported: %(created)s created, %(updated)s updated, %(unchanged)s unchanged.")
            % {
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            },
        )
        return self._preview(request, report, token="", filename=entry["filename"])

    # -- downloads --

    def import_template_view(self, request, file_format: str):
        self._check(request)
        stem = f"{self.opts.model_name}-import-template"
        if file_format == "csv":
            response = HttpResponse(
                template_csv(self.import_columns, request.user), content_type="text/csv"
            )
        elif file_format == "xlsx":
            response = HttpResponse(
                template_xlsx(self.import_columns, request.user),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        else:
            raise PermissionDenied
        response["Content-Disposition"] = f'attachment; filename="{stem}.{file_format}"'
        return response

    def import_codes_view(self, request):
        self._check(request)
        response = HttpResponse(codes_csv(self.import_columns), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="import-codes.csv"'
        return response
