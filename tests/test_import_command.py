"""manage.py import_projects / import_partners: dry run by default, exit code 1 on errors,
progress on stderr."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from partners.models import Partner
from projects.models import Project

DATA = Path(__file__).parent / "data"


def call(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_dry_run_by_default_then_commit(officer, lead_unit, foreign_partner):
    path = str(DATA / "projects_gb18030.csv")
    out, err = call("import_projects", path, "--user", officer.username, "--language", "en")
    assert "Dry run" in out and "1 to create" in out and "gb18030" in out
    # Not a terminal: no progress bar, nothing but the report.
    assert err == ""
    assert Project.objects.count() == 0
    out, _err = call("import_projects", path, "--user", officer.username, "--commit")
    project = Project.objects.get()
    assert project.code in out and project.history.first().history_user == officer


def test_errors_exit_with_code_1_and_write_nothing(officer, lead_unit, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("title_zh,lead_unit,countries\n甲,广西国际博览事务局,XX\n", encoding="utf-8")
    with pytest.raises(CommandError) as error:
        call("import_projects", str(bad), "--user", officer.username, "--commit")
    assert error.value.returncode == 1
    assert Project.objects.count() == 0


def test_unreadable_file_and_unknown_user_are_clear_errors(officer, tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("title_en\nCafé, résumé\n".encode("latin-1"))
    with pytest.raises(CommandError, match="Unknown encoding"):
        call("import_projects", str(latin1), "--user", officer.username, "--language", "en")
    with pytest.raises(CommandError, match="nobody"):
        call("import_projects", str(latin1), "--user", "nobody")
    with pytest.raises(CommandError):
        call("import_projects", str(tmp_path / "missing.csv"), "--user", officer.username)


def test_create_partners_option(officer, lead_unit, tmp_path):
    path = tmp_path / "p.csv"
    path.write_text(
        "title_zh,lead_unit,countries,partners\n甲,广西国际博览事务局,LA,万象物流:implementing\n",
        encoding="utf-8",
    )
    with pytest.raises(CommandError):
        call("import_projects", str(path), "--user", officer.username, "--commit")
    call("import_projects", str(path), "--user", officer.username, "--commit", "--create-partners")
    assert Partner.objects.filter(name_zh="万象物流", country_id="LA").exists()


def test_import_partners_command(manager, tmp_path):
    path = tmp_path / "partners.csv"
    path.write_bytes(
        "中文名称,英文名称,类型,国家\r\n万象商会,Vientiane Chamber,商会,老挝\r\n".encode("gb18030")
    )
    call("import_partners", str(path), "--user", manager.username)
    assert not Partner.objects.filter(name_zh="万象商会").exists()
    call("import_partners", str(path), "--user", manager.username, "--commit")
    partner = Partner.objects.get(name_zh="万象商会")
    assert (partner.kind, partner.country_id) == ("chamber", "LA")


class Terminal(io.StringIO):
    """An output stream that says it is a terminal, as a console's stderr does."""

    def isatty(self):
        return True


def test_progress_bar_on_a_terminal(officer, lead_unit, foreign_partner):
    path = str(DATA / "projects_gb18030.csv")
    err = Terminal()
    call_command(
        "import_projects", path, "--user", officer.username, stdout=io.StringIO(), stderr=err
    )
    assert "1/1" in err.getvalue() and "100%" in err.getvalue()
