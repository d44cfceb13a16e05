"""The portal's pages from Jinja2 templates (autoescaped, one layout) with their words from
gettext catalogs (Babel ``.po`` files for ko and en), so a designer or a translator changes a
page without touching Python.

The ``.po`` files are read as they are (compiled in memory when first used): there is no
``.mo`` file to build or to forget to rebuild.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from hub.core import html

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
LOCALES = HERE / "locale"
#: The portal's own scripts and styles, the vendored libraries and the gu boundaries.
STATIC = HERE / "static"
LANGS = ("ko", "en")
#: Each language's name, as the link to it is written in the other.
OTHER = {"ko": ("en", "English"), "en": ("ko", "한국어")}


def N_(message: str) -> str:
    """Marks a word for the catalogs where it is written; it is translated where shown."""
    return message


@cache
def translations(lang: str) -> Translations:
    """The language's catalog, compiled from its ``.po`` file."""
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def gettext(lang: str, message: str) -> str:
    """A word in ``lang`` (the English message itself where the catalog has none)."""
    return translations(lang).gettext(message)


@cache
def environment(lang: str) -> Environment:
    """One template environment per language, its gettext installed (templates are read once
    per process)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    other, other_name = OTHER[lang]
    env.globals.update(
        lang=lang,
        other=other,
        other_name=other_name,
        style=Markup(html.style(*html.WIDE)),  # the one style sheet every hub page has
    )
    return env


def render(template: str, lang: str, **context: Any) -> str:
    """A page (or part of one) in ``lang``."""
    return environment(lang).get_template(template).render(**context)


def respond(
    request: Request, template: str, lang: str, title: str, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page as an answer: ``title`` is a catalog word; the language switch leads to the same
    URL in the other language."""
    params = {**request.query_params, "lang": OTHER[lang][0]}
    switch = f"{request.url.path}?{urlencode(params)}"
    page = render(template, lang, title=gettext(lang, title), switch=switch, **context)
    return HTMLResponse(page, status_code=status)
