"""QR codes as inline SVG, for printable orders and sample labels (segno, pure Python)."""

from __future__ import annotations

import io

import segno


def qr_svg(text: str, *, scale: int = 4, border: int = 2) -> str:
    """An ``<svg>`` element (no XML declaration) that encodes ``text``, to paste into HTML.

    The namespace is kept: WeasyPrint renders inline SVG only when the element declares it.
    Error correction "M" survives a smudged print without making the code much larger.
    """
    code = segno.make(text, error="m", micro=False)
    buffer = io.BytesIO()
    code.save(buffer, kind="svg", xmldecl=False, svgns=True, scale=scale, border=border)
    return buffer.getvalue().decode("utf-8")
