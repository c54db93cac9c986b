"""The Simplified Chinese catalog is complete, compiled, and what a Chinese-speaking lawyer sees.

Conventions (Language) ask for a complete, not partial, translation: these tests fail when a
string is added to the code without a translation, when a translation loses a placeholder,
when ``django.mo`` lags behind ``django.po``, or when a page still renders in English.
``make messages`` extracts and compiles; translate what it adds, then run these tests.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from matters.models import Classification

PROJECT = Path(__file__).resolve().parents[1]
CATALOG = PROJECT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = CATALOG / "django.po"
MO_PATH = CATALOG / "django.mo"

# What `make messages` leaves out of extraction (its --ignore options), plus what is never source.
NOT_SOURCE = {".git", ".venv", "var", "bench", "tests", "locale", "node_modules"}

# %(name)s, %(count)d, %s, %% … and {name}: whatever Python formatting fills in at run time.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]|\{\w*\}")
HTML_TAG = re.compile(r"<[^<>]+>")

# Reserved by the Law on Guarding State Secrets for state secrets (see NOTES.md): a firm's
# commercial classification must never be labelled with them.
STATE_SECRET_TERMS = ("秘密", "机密", "绝密")


def _catalog() -> polib.POFile:
    return polib.pofile(str(PO_PATH))


def _entries(po: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in po if not entry.obsolete]


def _key(entry: polib.POEntry | polib.MOEntry) -> tuple[str, str, str]:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _translations(entry: polib.POEntry | polib.MOEntry) -> list[str]:
    if entry.msgid_plural:
        return [entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural)]
    return [entry.msgstr]


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = _catalog()
    assert not po.metadata_is_fuzzy, "the header is fuzzy: msgfmt would drop Plural-Forms"
    untranslated = [entry.msgid for entry in _entries(po) if not all(_translations(entry))]
    fuzzy = [entry.msgid for entry in _entries(po) if entry.fuzzy]
    assert untranslated == [], f"{len(untranslated)} untranslated: run `make messages` and translate them"
    assert fuzzy == [], f"fuzzy entries are not used at run time; review them and drop the flag: {fuzzy}"


def test_chinese_has_a_single_plural_form():
    po = _catalog()
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert [entry.msgid for entry in _entries(po) if entry.msgid_plural and len(entry.msgstr_plural) != 1] == []


def test_translations_keep_placeholders_and_markup():
    problems = []
    for entry in _entries(_catalog()):
        # Chinese has one form for every count, so it must carry what the plural source carries
        # (a singular may spell the count out: "one matter").
        source = entry.msgid_plural or entry.msgid
        for msgstr in _translations(entry):
            if _placeholders(msgstr) != _placeholders(source):
                problems.append(f"{entry.msgid!r}: {_placeholders(source)} became {_placeholders(msgstr)}")
            if sorted(HTML_TAG.findall(msgstr)) != sorted(HTML_TAG.findall(source)):
                problems.append(f"{entry.msgid!r}: HTML tags differ in {msgstr!r}")
    assert problems == []


def test_no_state_secret_terms_in_the_translation():
    offending = [
        (entry.msgid, msgstr)
        for entry in _entries(_catalog())
        for msgstr in _translations(entry)
        if any(term in msgstr for term in STATE_SECRET_TERMS)
    ]
    assert offending == []


def test_classification_labels_follow_the_firms_chinese_terms():
    with translation.override("zh-hans"):
        labels = {level.name: str(level.label) for level in Classification}
    assert labels == {
        "PUBLIC": "公开",
        "INTERNAL": "内部",
        "CONFIDENTIAL": "保密",
        "HIGHLY_CONFIDENTIAL": "高度保密",
    }


def test_compiled_catalog_matches_the_po_file():
    translated = {
        _key(entry): _translations(entry) for entry in _entries(_catalog()) if not entry.fuzzy and entry.translated()
    }
    compiled = {_key(entry): _translations(entry) for entry in polib.mofile(str(MO_PATH)) if entry.msgid}
    stale = sorted(key[1] for key in translated.keys() ^ compiled.keys())
    changed = sorted(key[1] for key in translated.keys() & compiled.keys() if translated[key] != compiled[key])
    assert (stale, changed) == ([], []), "django.mo is out of date: run `make messages`"


def test_catalog_covers_every_translatable_string_in_the_source(tmp_path, settings, monkeypatch):
    """Extract again from a copy of the source and compare: nothing the code marks may be missing.

    makemessages writes into the first LOCALE_PATHS entry (and into any ``locale`` folder it meets),
    so it runs on a copy whose only locale folder is a temporary one; the real catalog is untouched.
    """
    for tool in ("xgettext", "msguniq", "msgmerge"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: install GNU gettext (apt-get install gettext) to check the catalog")
    real_catalog = hashlib.sha256(PO_PATH.read_bytes()).hexdigest()
    source = tmp_path / "source"
    source.mkdir()
    for item in PROJECT.iterdir():
        if item.name in NOT_SOURCE or item.name.startswith("."):
            continue
        if item.is_dir():
            shutil.copytree(item, source / item.name, ignore=shutil.ignore_patterns("__pycache__", "locale"))
        else:
            shutil.copy2(item, source / item.name)
    settings.LOCALE_PATHS = [source / "locale"]
    monkeypatch.chdir(source)

    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)

    extracted = {_key(entry) for entry in polib.pofile(str(source / "locale/zh_Hans/LC_MESSAGES/django.po"))}
    ours = {_key(entry) for entry in _entries(_catalog())}
    assert hashlib.sha256(PO_PATH.read_bytes()).hexdigest() == real_catalog, "the check rewrote the real catalog"
    assert len(extracted) > 100, "extraction found almost nothing: is the copy of the source complete?"
    missing = sorted(msgid for _, msgid, _ in extracted - ours)
    assert missing == [], "strings missing from django.po: run `make messages` and translate them"


def test_matter_list_renders_in_chinese_after_switching_language(login, alice, matter):
    assert matter.classification == Classification.CONFIDENTIAL
    client = login(alice)
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("matters:list")})

    response = client.get(reverse("matters:list"))

    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "<h1>我的案件</h1>" in html
    assert re.findall(r'<th scope="col">(.*?)</th>', html) == [
        "编号",
        "名称",
        "客户",
        "业务领域",
        "保密级别",
        "状态",
        "收案日期",
    ]
    assert re.search(r"<span class=\"badge c\d+\">保密</span>", html)
    assert "共 1 个案件" in html
    assert "诉讼与仲裁" in html  # the practice area, a model choice
    assert "进行中" in html  # the status
    for english in ("Your matters", "Classification", ">Confidential<", "Sign out", "Practice area"):
        assert english not in html


def test_sign_in_page_renders_in_chinese_for_a_chinese_browser(client, db):
    url = reverse("access:login")
    headers = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}

    page = client.get(url, headers=headers).content.decode()
    # An empty form: the field errors and labels come from Django's own zh_Hans catalog.
    rejected = client.post(url, {"username": "", "password": ""}, headers=headers).content.decode()

    assert "<h1>登录</h1>" in page
    assert "第 1 步" in page  # "Step 1 of 2"
    assert ">用户名</label>" in page
    assert ">密码</label>" in page
    assert ">继续</button>" in page
    assert "Sign in" not in page
    assert "这个字段是必填项。" in rejected
    assert "This field is required." not in rejected
