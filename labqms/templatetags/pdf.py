"""Template tags for printable documents (templates/pdf/)."""

import re

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()

# "%(page)s" / "%(pages)s" become CSS page counters; "%%" is a literal percent sign.
_PLACEHOLDER = re.compile(r"%\((page|pages)\)s|%%")


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string that cannot end the string or the <style> element."""
    escaped = "".join(
        f"\\{ord(char):x} " if char in '\\"<>&' or ord(char) < 0x20 or ord(char) == 0x7F else char
        for char in text
    )
    return f'"{escaped}"'


def counter_content(text: str) -> str:
    """A CSS ``content`` value for a "page x of y" sentence in any language.

    ``"Page %(page)s of %(pages)s"`` → ``"Page " counter(page) " of " counter(pages)``;
    ``"第 %(page)s 页 共 %(pages)s 页"`` → ``"第 " counter(page) " 页 共 " counter(pages) " 页"``.
    """
    tokens: list[str] = []
    literal = ""
    position = 0
    for match in _PLACEHOLDER.finditer(text):
        literal += text[position : match.start()]
        position = match.end()
        if match[0] == "%%":
            literal += "%"
            continue
        if literal:
            tokens.append(css_string(literal))
            literal = ""
        tokens.append(f"counter({match[1]})")
    literal += text[position:]
    if literal or not tokens:
        tokens.append(css_string(literal))
    return " ".join(tokens)


@register.simple_tag
def page_counter_content():
    """``content:`` value of the page footer, e.g. "第 1 页 共 2 页" in Chinese."""
    # Translators: footer on every page of a printed document. Keep %(page)s (this
    # page's number) and %(pages)s (the number of pages), e.g. "第 %(page)s 页 共 %(pages)s 页".
    sentence = gettext("Page %(page)s of %(pages)s")
    # Safe: counter_content quotes and escapes all text, it cannot leave <style>.
    return mark_safe(counter_content(sentence))
