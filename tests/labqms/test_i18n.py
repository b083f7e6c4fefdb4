"""The Chinese catalogue (locale/zh_Hans/LC_MESSAGES/django.po) is complete, matches the code,
and is what the pages show: zh-hans by default, English (the source text) on request.

English is the msgid; every msgid needs a Chinese msgstr, so a new string without a
translation fails here.  To fix a failure:

    .venv/bin/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=node_modules \\
        --ignore=var --no-obsolete

then fill the new msgstr entries (terms from the glossary) and remove any "#, fuzzy" flag.
"""

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.signals import setting_changed
from django.urls import reverse
from django.utils import translation

BASE_DIR = Path(settings.BASE_DIR)
PO_FILE = BASE_DIR / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "var"]

# msgstr values that rightly contain no Chinese character (product names, codes).
NOT_TRANSLATED_ON_PURPOSE = {"labqms"}

CJK = re.compile(r"[\u3400-\u9fff]")
# %(name)s-style (gettext/blocktranslate) and {name}-style (str.format) placeholders.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifeEgGxXr]|\{\w*\}")


# --- a tiny .po reader ------------------------------------------------------------------


def read_po(path):
    """Entries of a .po file, header included, as dicts with the keys msgctxt, msgid,
    msgid_plural, msgstr (a list: one item, or one per plural form), flags and obsolete."""
    entries = []
    entry = None
    field = None

    def start():
        return {
            "msgctxt": None,
            "msgid": None,
            "msgid_plural": None,
            "msgstr": [],
            "flags": set(),
            "obsolete": False,
        }

    def finish():
        nonlocal entry, field
        if entry is not None and entry["msgid"] is not None:
            entries.append(entry)
        entry, field = None, None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#") or (obsolete and line.startswith("|")):
            # A comment after a msgstr starts the next entry.
            if entry is not None and entry["msgstr"]:
                finish()
            entry = entry or start()
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        keyword, _, rest = line.partition(" ")
        if line.startswith('"'):
            if field is None:
                raise ValueError(f"{path}:{number}: continuation line without a keyword")
            text = ast.literal_eval(line)
            if field.startswith("msgstr"):
                entry["msgstr"][-1] += text
            else:
                entry[field] += text
            continue
        if keyword in {"msgctxt", "msgid"} and entry is not None and entry["msgstr"]:
            finish()
        entry = entry or start()
        entry["obsolete"] = entry["obsolete"] or obsolete
        text = ast.literal_eval(rest.strip())
        if keyword in {"msgctxt", "msgid", "msgid_plural"}:
            entry[keyword] = text
        elif keyword == "msgstr" or re.fullmatch(r"msgstr\[\d+\]", keyword):
            entry["msgstr"].append(text)
        else:
            raise ValueError(f"{path}:{number}: unexpected line {raw!r}")
        field = keyword
    finish()
    return entries


def messages(path):
    """The live (non-obsolete) entries without the header."""
    return [e for e in read_po(path) if not e["obsolete"] and e["msgid"] != ""]


def key(entry):
    return (entry["msgctxt"], entry["msgid"], entry["msgid_plural"])


def describe(keys):
    lines = []
    for msgctxt, msgid, msgid_plural in sorted(keys, key=lambda k: (k[1], k[0] or "")):
        text = repr(msgid) if msgid_plural is None else f"{msgid!r} / {msgid_plural!r}"
        lines.append(f"  {text}" + (f"  (context {msgctxt!r})" if msgctxt else ""))
    return "\n".join(lines)


# --- the catalogue itself ------------------------------------------------------------


def test_every_message_is_translated_to_chinese():
    entries = messages(PO_FILE)
    assert entries, f"{PO_FILE} holds no messages"

    untranslated = [
        key(e) for e in entries if not e["msgstr"] or not all(s.strip() for s in e["msgstr"])
    ]
    fuzzy = [key(e) for e in entries if "fuzzy" in e["flags"]]
    not_chinese = [
        key(e)
        for e in entries
        if any(s.strip() and not CJK.search(s) for s in e["msgstr"])
        and e["msgid"] not in NOT_TRANSLATED_ON_PURPOSE
    ]
    problems = []
    if untranslated:
        problems.append(
            f"{len(untranslated)} without a translation (empty msgstr):\n{describe(untranslated)}"
        )
    if fuzzy:
        problems.append(
            f"{len(fuzzy)} marked fuzzy (check the translation, then drop the flag):\n{describe(fuzzy)}"
        )
    if not_chinese:
        problems.append(
            f"{len(not_chinese)} whose msgstr has no Chinese text:\n{describe(not_chinese)}"
        )
    assert not problems, f"{PO_FILE.relative_to(BASE_DIR)}:\n" + "\n".join(problems)


def test_catalogue_header_declares_chinese_with_one_plural_form():
    header = next(e for e in read_po(PO_FILE) if e["msgid"] == "" and not e["obsolete"])
    assert "fuzzy" not in header["flags"], "the header is marked fuzzy"
    assert "Plural-Forms: nplurals=1; plural=0;" in header["msgstr"][0]
    assert "charset=UTF-8" in header["msgstr"][0]
    plural = [e for e in messages(PO_FILE) if e["msgid_plural"] is not None]
    assert all(len(e["msgstr"]) == 1 for e in plural), describe(
        [key(e) for e in plural if len(e["msgstr"]) != 1]
    )


def test_translations_keep_every_placeholder(tmp_path):
    """A lost or misspelt %(name)s raises KeyError (or shows nothing) at run time."""
    wrong = []
    for e in messages(PO_FILE):
        wanted = sorted(PLACEHOLDER.findall(e["msgid_plural"] or e["msgid"]))
        for translated in e["msgstr"]:
            if translated and sorted(PLACEHOLDER.findall(translated)) != wanted:
                wrong.append(f"  {e['msgid']!r} → {translated!r}")
    assert not wrong, "placeholders differ from the msgid:\n" + "\n".join(wrong)

    # msgfmt --check: format strings, header and plural forms as gettext sees them.
    result = subprocess.run(
        ["msgfmt", "--check", "-o", str(tmp_path / "django.mo"), str(PO_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


# --- the catalogue against the code ------------------------------------------------------


def _copy_sources(target):
    """The project as makemessages sees it: everything but hidden and ignored directories."""
    skipped = {*MAKEMESSAGES_IGNORE, "__pycache__", "test-results", "staticfiles"}
    for item in BASE_DIR.iterdir():
        if item.name.startswith(".") or item.name in skipped:
            continue
        if item.is_dir():
            shutil.copytree(
                item,
                target / item.name,
                ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "*.mo"),
            )
        else:
            shutil.copy2(item, target / item.name)


def test_catalogue_is_up_to_date_with_the_code(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    _copy_sources(project)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "labqms.settings",
        "LABQMS_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "makemessages",
            "-l",
            "zh_Hans",
            "--no-obsolete",
            *(f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORE),
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    in_code = {key(e) for e in messages(project / PO_FILE.relative_to(BASE_DIR))}
    in_catalogue = {key(e) for e in messages(PO_FILE)}
    assert in_code, "makemessages found no strings in the code"
    problems = []
    if in_code - in_catalogue:
        problems.append(
            f"in the code but not in the catalogue:\n{describe(in_code - in_catalogue)}"
        )
    if in_catalogue - in_code:
        problems.append(
            f"in the catalogue but no longer in the code:\n{describe(in_catalogue - in_code)}"
        )
    assert not problems, (
        f"{PO_FILE.relative_to(BASE_DIR)} is out of date; run makemessages (see this file's "
        "docstring) and translate the new strings.\n" + "\n".join(problems)
    )


# --- the pages ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def compiled_catalogue():
    """The .mo Django reads (git-ignored, built by `make install`): compiled here if it is
    missing or older than the .po."""
    mo_file = PO_FILE.with_suffix(".mo")
    if not mo_file.exists() or mo_file.stat().st_mtime < PO_FILE.stat().st_mtime:
        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "compilemessages",
                "-l",
                "zh_Hans",
                *(f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORE),
            ],
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        # Catalogues already loaded in this process were read without the new .mo: let
        # Django drop them, as it does when a test overrides LOCALE_PATHS.
        setting_changed.send(
            sender=type(settings._wrapped),
            setting="LOCALE_PATHS",
            value=settings.LOCALE_PATHS,
            enter=False,
        )
    assert mo_file.exists(), f"{mo_file} was not compiled"
    return mo_file


def test_pages_render_in_chinese_by_default_and_english_on_request(
    client, technician, compiled_catalogue
):
    chinese = {e["msgid"]: e["msgstr"][0] for e in messages(PO_FILE)}
    sign_out_zh = chinese["Sign out"]
    assert CJK.search(sign_out_zh), f"'Sign out' is translated as {sign_out_zh!r}"

    client.force_login(technician)
    try:
        page = client.get("/")
        assert page.status_code == 200
        html = page.content.decode()
        assert '<html lang="zh-hans">' in html
        assert sign_out_zh in html
        assert "Sign out" not in html

        switched = client.post(reverse("set_language"), {"language": "en", "next": "/"})
        assert switched.status_code == 302
        assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"

        page = client.get("/")
        assert page.status_code == 200
        html = page.content.decode()
        assert '<html lang="en">' in html
        assert "Sign out" in html
        assert sign_out_zh not in html
    finally:
        # LocaleMiddleware leaves the last request's language active in this thread.
        translation.deactivate()
