"""HTML → PDF with WeasyPrint, for certificates, records and other printable documents.

Templates live in ``templates/pdf/`` and extend ``pdf/base.html`` (A4, CJK font stack,
"page x of y" footer).  WeasyPrint fetches what the HTML references through
:class:`LocalFilesFetcher`: ``{% static %}`` URLs are read from the lab's own static
files and ``data:`` URLs are decoded; every other URL is refused, so rendering never
reaches the network — a PDF must not depend on (or leak to) a remote server.

Fonts are system fonts found through fontconfig (see ``static/labqms/pdf.css``);
WeasyPrint embeds only the glyphs used (font subsetting, fast with libharfbuzz-subset).
"""

from __future__ import annotations

import mimetypes
import posixpath
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.document import Document
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Relative URLs in the HTML resolve against this when the caller gives no base URL.
# ``.invalid`` is reserved (RFC 2606): the name can never resolve to a real host.
INTERNAL_BASE_URL = "https://labqms.invalid/"


class URLRefused(ValueError):
    """WeasyPrint asked for a URL that is neither a static file nor inline data."""


class LocalFilesFetcher(URLFetcher):
    """Answers WeasyPrint's URL requests from local files only.

    ``<base_url>/static/…`` (or an absolute ``STATIC_URL``) is read through the
    staticfiles finders, falling back to the collected files in ``STATIC_ROOT`` (hashed
    names of the manifest storage); ``data:`` URLs are decoded.  Anything else raises
    :class:`URLRefused`; WeasyPrint logs a warning and renders without the resource.
    """

    def __init__(self, *, base_url: str = INTERNAL_BASE_URL):
        super().__init__(allowed_protocols=("data",))
        self.static_prefix = urljoin(base_url, settings.STATIC_URL)
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(self.static_prefix):
            name = _static_name(url[len(self.static_prefix) :])
            body = _read_static(name) if name else None
            if body is None:
                raise URLRefused(f"no static file {name!r}")
            content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})
        if urlsplit(url).scheme.lower() == "data":
            return super().fetch(url, headers)
        self.refused.append(url)
        raise URLRefused(f"only static files and data: URLs may appear in a PDF, not {url}")


def _static_name(path: str) -> str | None:
    """The static file name in a URL path, or None when it tries to leave the static tree."""
    name = unquote(path.split("?", 1)[0].split("#", 1)[0])
    normalised = posixpath.normpath(name)
    if not name or normalised.startswith(("..", "/")) or normalised != name.rstrip("/"):
        return None
    return normalised


def _read_static(name: str) -> bytes | None:
    path = finders.find(name)
    if path:
        with open(path, "rb") as file:
            return file.read()
    # After collectstatic the manifest storage hands out hashed names that only exist
    # in STATIC_ROOT, not in the finders' source folders.
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as file:
            return file.read()
    return None


def render_document(html: str, *, base_url: str | None = None) -> Document:
    """Lay out ``html`` into pages (a WeasyPrint ``Document``) without writing the PDF."""
    base_url = base_url or INTERNAL_BASE_URL
    font_config = FontConfiguration()
    source = HTML(string=html, base_url=base_url, url_fetcher=LocalFilesFetcher(base_url=base_url))
    return source.render(font_config=font_config)


def html_to_pdf(html: str, *, base_url: str | None = None) -> bytes:
    """PDF bytes for an HTML string; relative URLs resolve against ``base_url``."""
    return render_document(html, base_url=base_url).write_pdf()


def lab_name() -> str:
    """The lab's name as printed on every document (``LABQMS_LAB_NAME``)."""
    from django.utils.translation import gettext as _

    return getattr(settings, "LABQMS_LAB_NAME", "") or _("labqms metrology laboratory")


def pdf_response(template_name: str, context: dict | None, *, request, filename: str):
    """Render ``template_name`` to PDF and answer it inline as ``filename`` (RFC 6266
    copes with names outside ASCII)."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(render_pdf(template_name, context, request=request), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=False, filename=filename)
    return response


def render_pdf(template_name: str, context: dict | None = None, *, request=None) -> bytes:
    """Render a Django template (usually under ``pdf/``) and convert it to PDF bytes.

    With a ``request``, context processors run and links in the PDF point at the site
    the request came to; static files are still read locally.
    """
    html = render_to_string(template_name, context, request=request)
    base_url = request.build_absolute_uri("/") if request is not None else None
    return html_to_pdf(html, base_url=base_url)
