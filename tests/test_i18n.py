from pathlib import Path

from django.utils import translation

from projects.models import Status
from registry import i18n


def test_every_message_is_translated_into_chinese():
    catalogues = i18n.catalogues()
    assert [Path(p).parent.parent.name for p in catalogues] == ["zh_Hans"]
    assert {str(p): i18n.untranslated(p) for p in catalogues} == {str(p): [] for p in catalogues}


def test_labels_follow_the_active_language():
    i18n.compile_all()
    translation.trans_real._translations = {}
    with translation.override("zh-hans"):
        assert str(Status.SELECTED.label) == "已入选"
    with translation.override("en"):
        assert str(Status.SELECTED.label) == "selected"


def test_admin_login_page_in_both_languages(client):
    chinese = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    english = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "用户名" in chinese and "Username" in english
