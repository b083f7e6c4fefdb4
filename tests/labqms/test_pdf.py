"""HTML → PDF (labqms.pdf): CJK text and metrology symbols, embedded fonts, the translated
"page x of y" footer, no network access, and the printable person record (R-PER-4).

PDFs are read back with poppler-utils (pdftotext, pdffonts) and fonts with fontTools, so
each test checks what a reader of the PDF would actually get."""

import re
import socket
import subprocess
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template import engines
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from fontTools.ttLib import TTCollection, TTFont

from labqms import pdf
from labqms.models import Role
from labqms.templatetags import pdf as pdf_tags
from tests.factories import (
    AuthorisationFactory,
    QualificationFactory,
    StaffProfileFactory,
)

# The symbols certificates and records print (R-CRT-5): each must render, none blank.
METROLOGY_SYMBOLS = "℃±µΩ²³½≤≥‰"
CHINESE_SAMPLE = "检定证书温度计量标准器"
STYLESHEET = "labqms/pdf.css"
GENERIC_FAMILIES = {"serif", "sans-serif", "monospace", "cursive", "fantasy", "system-ui"}


def render_html(body: str, *, header: str = "") -> str:
    """A document that extends pdf/base.html, as real printouts do."""
    source = (
        '{% extends "pdf/base.html" %}'
        "{% block header_right %}" + header + "{% endblock %}"
        "{% block content %}" + body + "{% endblock %}"
    )
    return engines["django"].from_string(source).render({})


def pdf_text(
    document: bytes, tmp_path: Path, *, page: int | None = None, layout: bool = True
) -> str:
    """The PDF's text as pdftotext reads it. ``layout=False`` keeps each table cell's
    wrapped lines together (with -layout neighbouring cells interleave line by line)."""
    path = tmp_path / "out.pdf"
    path.write_bytes(document)
    options = ["-layout"] if layout else []
    if page:
        options += ["-f", str(page), "-l", str(page)]
    result = subprocess.run(
        ["pdftotext", *options, str(path), "-"],
        capture_output=True,
        check=True,
        text=True,
    )
    return result.stdout


def without_spaces(text: str) -> str:
    return re.sub(r"\s+", "", text)


def embedded_fonts(document: bytes, tmp_path: Path) -> list[tuple[str, str]]:
    """(font name, emb column) for every font pdffonts lists."""
    path = tmp_path / "fonts.pdf"
    path.write_bytes(document)
    result = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True)
    rows = []
    for line in result.stdout.splitlines()[2:]:  # skip the header and the dashes
        columns = line.split()
        # name, type (one or more words), encoding, emb, sub, uni, object id (2 columns)
        rows.append((columns[0], columns[-5]))
    return rows


def stylesheet_font_stacks() -> list[list[str]]:
    """Every font-family declaration in the base print stylesheet, as a list of names."""
    css = Path(finders.find(STYLESHEET)).read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return [
        [name.strip().strip("\"'") for name in declaration.split(",")]
        for declaration in re.findall(r"font-family\s*:\s*([^;}]+)", css)
    ]


def installed_font(family: str, style: str = "") -> TTFont | None:
    """The font fontconfig picks for ``family``, or None when it would substitute another."""
    pattern = f"{family}:{style}" if style else family
    result = subprocess.run(
        ["fc-match", "-f", "%{family}|%{file}|%{index}", pattern],
        capture_output=True,
        check=True,
        text=True,
    )
    families, file, index = result.stdout.split("|")
    if family not in families.split(","):
        return None
    if file.lower().endswith((".ttc", ".otc")):
        return TTCollection(file, lazy=True).fonts[int(index)]
    return TTFont(file, lazy=True)


def font_name_in_stack(pdf_font_name: str, stack: list[str]) -> bool:
    # pdffonts shows e.g. "TSPJMR+Noto-Sans-CJK-SC": subset prefix, punctuation varies.
    def squash(name):
        return re.sub(r"[^a-z0-9]", "", name.lower())

    name = squash(pdf_font_name.split("+", 1)[-1])
    return any(
        name.startswith(squash(family)) for family in stack if family not in GENERIC_FAMILIES
    )


# --- fonts -----------------------------------------------------------------------------


def test_print_stylesheet_sets_the_cjk_font_stack_on_page_body_and_margin_boxes():
    stacks = stylesheet_font_stacks()
    # @page, its two margin boxes and <html>: margin boxes do not inherit from <html>.
    assert len(stacks) >= 4
    for stack in stacks:
        assert stack[0] == "Noto Sans CJK SC"
        assert not any("micro hei" in name.lower() for name in stack), stack


@pytest.mark.parametrize("style", ["", "bold"])
def test_every_metrology_symbol_has_a_glyph_in_the_font_stack(style):
    """R-CRT-5: ℃ ± µ Ω ² ³ ½ ≤ ≥ ‰ must never come out blank. For each declared stack the
    first family must be installed, and each symbol must be in some installed font of it."""
    for stack in stylesheet_font_stacks():
        fonts = {
            family: font
            for family in stack
            if family not in GENERIC_FAMILIES
            if (font := installed_font(family, style)) is not None
        }
        assert stack[0] in fonts, f"{stack[0]} is not installed (fc-match substitutes it)"
        cmaps = [font.getBestCmap() for font in fonts.values()]
        missing = [
            char
            for char in METROLOGY_SYMBOLS + CHINESE_SAMPLE
            if not any(ord(char) in cmap for cmap in cmaps)
        ]
        assert missing == [], f"no glyph in {list(fonts)} for {missing}"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_chinese_text_and_metrology_symbols_come_back_out_of_the_pdf(language, tmp_path):
    """R-CRT-5: what the template says is what the reader gets, symbols included."""
    with translation.override(language):
        document = pdf.html_to_pdf(
            render_html(
                f"<h1>{CHINESE_SAMPLE}</h1>"
                f"<p>环境温度 (20 ± 2) ℃，分度值 0.5 µm，电阻 10 Ω</p>"
                f"<table><tr><td>{' '.join(METROLOGY_SYMBOLS)}</td></tr></table>",
                header="℃ 页眉",
            )
        )

    text = without_spaces(pdf_text(document, tmp_path))
    assert CHINESE_SAMPLE in text
    assert "环境温度(20±2)℃" in text
    assert without_spaces(METROLOGY_SYMBOLS) in text
    assert "℃页眉" in text  # the running header too


def test_pdf_embeds_only_fonts_of_the_stack_for_body_header_and_footer(tmp_path):
    """No glyph falls back to a font outside the stack, not even in the margin boxes:
    the body, header and footer carry Latin, CJK and symbols."""
    document = pdf.html_to_pdf(
        render_html(
            f"<p>ABC 123 {CHINESE_SAMPLE} {METROLOGY_SYMBOLS}</p><h2>标题 Title</h2>",
            header="R-PER-4 ℃",
        )
    )

    fonts = embedded_fonts(document, tmp_path)
    stack = stylesheet_font_stacks()[0]
    assert fonts, "pdffonts lists no font"
    for name, embedded in fonts:
        assert embedded == "yes", f"{name} is not embedded"
        assert font_name_in_stack(name, stack), f"{name} is not a font of {stack}"


# --- footer ----------------------------------------------------------------------------


def test_counter_content_turns_the_sentence_into_css_counters():
    assert pdf_tags.counter_content("Page %(page)s of %(pages)s") == (
        '"Page " counter(page) " of " counter(pages)'
    )
    assert pdf_tags.counter_content("第 %(page)s 页 共 %(pages)s 页") == (
        '"第 " counter(page) " 页 共 " counter(pages) " 页"'
    )
    assert pdf_tags.counter_content("%(page)s/%(pages)s") == 'counter(page) "/" counter(pages)'
    assert pdf_tags.counter_content("100%% %(page)s") == '"100% " counter(page)'


def test_counter_content_cannot_break_out_of_the_css_string_or_the_style_element():
    content = pdf_tags.counter_content('"; } </style><script>x</script> %(page)s')

    assert "</style>" not in content and "<" not in content
    assert content.startswith('"\\22 ; } \\3c /style\\3e ')
    assert content.endswith(" counter(page)")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_footer_shows_page_x_of_y_on_each_page_of_a_two_page_document(language, tmp_path):
    """The footer is the translated sentence with the real page number and count."""
    html_source = '<p>第一页</p><p style="break-before: page">第二页</p>'
    with translation.override(language):
        document = pdf.html_to_pdf(render_html(html_source))
        sentence = gettext("Page %(page)s of %(pages)s")

    for page in (1, 2):
        expected = sentence % {"page": page, "pages": 2}
        assert without_spaces(expected) in without_spaces(pdf_text(document, tmp_path, page=page))
    assert without_spaces(sentence % {"page": 3, "pages": 2}) not in without_spaces(
        pdf_text(document, tmp_path)
    )


def test_chinese_footer_renders_in_the_cjk_font(monkeypatch, tmp_path):
    """With the Chinese translation the footer reads 第 1 页 共 2 页 and uses the stack font."""
    monkeypatch.setattr(pdf_tags, "gettext", lambda message: "第 %(page)s 页 共 %(pages)s 页")
    document = pdf.html_to_pdf(render_html('<p>甲</p><p style="break-before: page">乙</p>'))

    assert "第1页共2页" in without_spaces(pdf_text(document, tmp_path, page=1))
    assert "第2页共2页" in without_spaces(pdf_text(document, tmp_path, page=2))
    stack = stylesheet_font_stacks()[0]
    assert all(font_name_in_stack(name, stack) for name, _ in embedded_fonts(document, tmp_path))


# --- fetching --------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Records and blocks every attempt to resolve a host name or open a connection."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access in a test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def test_remote_url_is_refused_and_the_pdf_still_renders(no_network, caplog, tmp_path):
    document = pdf.html_to_pdf(
        render_html(
            '<p>远程图片</p><img src="http://example.com/x.png">'
            '<link rel="stylesheet" href="https://example.com/evil.css">'
        )
    )

    assert document.startswith(b"%PDF")
    assert "远程图片" in pdf_text(document, tmp_path)
    assert no_network == []
    refusals = [r.getMessage() for r in caplog.records if "example.com" in r.getMessage()]
    assert any("x.png" in message and "URLRefused" in message for message in refusals)


def test_fetcher_reads_static_files_locally_and_refuses_everything_else(no_network):
    fetcher = pdf.LocalFilesFetcher()
    css_url = pdf.INTERNAL_BASE_URL + "static/" + STYLESHEET

    response = fetcher.fetch(css_url)
    assert response.read() == Path(finders.find(STYLESHEET)).read_bytes()
    assert response.content_type == "text/css"

    for url in [
        "http://example.com/x.png",
        "https://labqms.invalid/media/upload.png",
        pdf.INTERNAL_BASE_URL + "static/%2e%2e/labqms/settings.py",
        pdf.INTERNAL_BASE_URL + "static/labqms/missing.css",
        "file:///etc/passwd",
    ]:
        with pytest.raises(pdf.URLRefused):
            fetcher.fetch(url)
    assert no_network == []


def test_fetcher_uses_the_request_host_as_base_for_static_files():
    fetcher = pdf.LocalFilesFetcher(base_url="https://lab.example.cn/")

    response = fetcher.fetch("https://lab.example.cn/static/" + STYLESHEET)

    assert b"Noto Sans CJK SC" in response.read()


def test_inline_data_urls_are_allowed():
    response = pdf.LocalFilesFetcher().fetch("data:text/plain;base64,5qOA5a6a")

    assert response.read().decode() == "检定"


def test_base_template_renders_without_any_failed_resource(caplog):
    """The stylesheet linked with {% static %} is found; WeasyPrint reports nothing."""
    pdf.html_to_pdf(render_html("<p>内容</p>"))

    problems = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("weasyprint") and r.levelname in {"WARNING", "ERROR"}
    ]
    assert problems == []


def test_render_pdf_renders_a_template_by_name(tmp_path):
    document = pdf.render_pdf("pdf/base.html", {})

    assert document.startswith(b"%PDF")


# --- person record (R-PER-4) -----------------------------------------------------------

@pytest.fixture
def recorded_person(make_user):
    person = make_user(Role.TECHNICIAN)
    StaffProfileFactory(user=person, job_title="检定员", department="医学计量室")
    AuthorisationFactory(person=person, competence_confirmed_on="2024-02-03")
    QualificationFactory(person=person, number="YJJ-77331")
    return person


def record_url(person):
    return reverse("people:person_record_pdf", args=[person.pk])


@pytest.mark.django_db
def test_person_record_pdf_lists_profile_authorisations_and_qualifications(
    client, counter, recorded_person, tmp_path
):
    """R-PER-4: the record is printable with authorisations (dates of authorisation and
    competence confirmation) and qualification certificates."""
    client.force_login(counter)

    response = client.get(record_url(recorded_person))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'inline; filename="person-{recorded_person.username}.pdf"'
    )
    text = pdf_text(response.content, tmp_path, layout=False)
    authorisation = recorded_person.authorisations.get()
    for expected in [
        recorded_person.full_name,
        "检定员",
        "医学计量室",
        str(authorisation.get_activity_display()),
        str(authorisation.authorised_by),
        "2024-02-03",
        "2030-12-31",
        "YJJ-77331",
    ]:
        assert without_spaces(expected) in without_spaces(text), expected
    # The print stylesheet was found through the request's host: no fallback fonts.
    stack = stylesheet_font_stacks()[0]
    assert all(
        font_name_in_stack(name, stack) for name, _ in embedded_fonts(response.content, tmp_path)
    )


@pytest.mark.django_db
def test_person_record_pdf_is_404_for_a_customer(client, customer, recorded_person):
    client.force_login(customer)

    assert client.get(record_url(recorded_person)).status_code == 404


@pytest.mark.django_db
def test_person_record_pdf_is_404_for_a_person_who_is_not_staff(client, counter, customer):
    client.force_login(counter)

    assert client.get(record_url(customer)).status_code == 404


@pytest.mark.django_db
def test_person_record_pdf_sends_anonymous_visitors_to_sign_in(client, recorded_person):
    response = client.get(record_url(recorded_person))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
