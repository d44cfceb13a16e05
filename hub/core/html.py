"""The one style sheet of the hub's HTML, so every page a person reads looks the same: the web
app's templates put it in their layout, and the quality report (a static file the ``quality``
room writes, which cannot use the web app's templates) in its own page shell below.

Standard library only: the web app and the quality report both stand on it.
"""

from __future__ import annotations

from html import escape

#: The hub's icon, served by the web app (a report opened as a file shows none).
ICON = "/static/hub/favicon.svg"
#: Page width and table spacing of wide browsing pages (the map, a dataset's page).
WIDE = ("80rem", ".5rem 0 1.5rem")
#: Page width and table spacing of reading pages (the quality report).
NARROW = ("70rem", "1rem 0")


def style(width: str, spacing: str) -> str:
    """The style sheet: fonts with Hangul, ruled tables, and the status classes pages use."""
    return (
        "body{font-family:system-ui,'Noto Sans KR','NanumGothic',sans-serif;margin:2rem;"
        f"max-width:{width};color:#222}}\n"
        f"table{{border-collapse:collapse;margin:{spacing}}}td,th{{border:1px solid #ccc;"
        "padding:.3rem .6rem;\ntext-align:left;vertical-align:top}th{background:#f3f3f3}"
        ".muted{color:#5a5a5a}\n.late{color:#b00020}.fresh{color:#1b7a1b}"
        ".badge{padding:0 .4rem;border-radius:.3rem;background:#eef}\n"
        ".fail{color:#b00020;font-weight:600}.ok{color:#1b7a1b}"
        ".score{font-size:2rem;font-weight:700}\n"
        ".cols{display:flex;flex-wrap:wrap;gap:0 2rem}.cols nav{flex:0 0 13rem}"
        ".cols>section{flex:1 1 30rem;min-width:0;overflow-x:auto}nav ul{padding-left:1rem}"
        "caption{text-align:left;position:absolute;left:-9999px}"
        "input,textarea,select{max-width:100%;box-sizing:border-box}"
        ".scroll{overflow-x:auto;max-width:100%}p code,.meta td{overflow-wrap:anywhere}"
        "@media (max-width:40rem){body{margin:1rem}.cols nav{flex:1 1 100%}}"
    )


def page(title: str, body: str, *, lang: str = "ko", layout: tuple[str, str] = WIDE) -> str:
    """A whole HTML document around ``body`` (already HTML); ``title`` is escaped here."""
    return (
        f'<!doctype html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<link rel="icon" href="{ICON}">'
        f"<title>{escape(title)}</title><style>{style(*layout)}</style></head>"
        f"<body>{body}</body></html>"
    )
