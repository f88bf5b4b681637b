"""Small HTML and text building blocks for reprs. Every value passes through ``esc``."""

from __future__ import annotations

import html
import sys
from collections.abc import Iterable, Sequence
from typing import Any

STYLE = (
    "<style>.jsyft{font-family:var(--jp-ui-font-family,sans-serif);font-size:13px}"
    ".jsyft table{border-collapse:collapse;margin:4px 0}"
    ".jsyft th,.jsyft td{border:1px solid var(--jp-border-color2,#ddd);padding:2px 8px;"
    "text-align:left;vertical-align:top}"
    ".jsyft .muted{color:var(--jp-ui-font-color2,#777)}</style>"
)


def esc(value: Any) -> str:
    """Escape anything for HTML text or attribute context."""
    return html.escape("" if value is None else str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def card(
    title: str, fields: Sequence[tuple[str, Any]], extra_html: str = "", kind: str = ""
) -> str:
    """A titled block: ``fields`` are (label, plain value) pairs, ``extra_html`` is trusted HTML."""
    rows = "".join(
        f"<div><strong>{esc(label)}:</strong> {esc(value)}</div>"
        for label, value in fields
        if value not in (None, "")
    )
    subtitle = f'<span class="muted">{esc(kind)}</span> ' if kind else ""
    return f'{STYLE}<div class="jsyft"><h3>{subtitle}{esc(title)}</h3>{rows}{extra_html}</div>'


def listing(kind: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    total = f'<span class="muted">Total: {len(rows)}</span>'
    title = f"<strong>{esc(kind)}</strong>"
    return f'{STYLE}<div class="jsyft">{title} {total}{table(headers, rows)}</div>'


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [min(40, max(len(r[i]) for r in cells)) for i in range(len(headers))]
    lines = ["  ".join(c[:40].ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def paragraphs(text: str) -> str:
    return "".join(f"<p>{esc(p)}</p>" for p in text.split("\n\n") if p.strip())


def markdown_html(text: str) -> str:
    """Markdown as HTML, for texts other people wrote: raw HTML in it is escaped (shown as
    text) and links with a scripting scheme (``javascript:``...) are dropped (mistune, which
    Jupyter's nbconvert brings); escaped paragraphs without it."""
    try:
        import mistune
    except ImportError:  # pragma: no cover - jupyter_server depends on nbconvert, which on it
        return paragraphs(text)
    return str(mistune.create_markdown(escape=True)(text))


def code_html(source: str) -> str:
    """Syntax-highlighted Python (pygments escapes the text); plain escaped text without it."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:  # pragma: no cover - pygments comes with IPython
        return f"<pre>{esc(source)}</pre>"
    formatter = HtmlFormatter(noclasses=True, style="default", nowrap=False)
    return str(highlight(source, PythonLexer(), formatter))


def findings_html(findings: Sequence[Any]) -> str:
    if not findings:
        return '<p class="muted">Static analysis found nothing to flag.</p>'
    rows = [(f.severity, f.line or "", f.message) for f in findings]
    return "<h4>Static analysis</h4>" + table(["Severity", "Line", "Finding"], rows)


def value_html(value: Any, max_rows: int = 10) -> str:
    """A value as HTML: pandas objects as a table of their first rows (pandas escapes every
    cell and label), anything else as its escaped, shortened repr."""
    pd = sys.modules.get("pandas")  # a pandas value means pandas is imported already
    if pd is not None and isinstance(value, pd.Series):
        value = value.to_frame()
    if pd is not None and isinstance(value, pd.DataFrame):
        return str(value.to_html(max_rows=max_rows, max_cols=20, escape=True))
    text = repr(value)
    if len(text) > 2000:
        text = text[:2000] + " ..."
    return f"<pre>{esc(text)}</pre>"


class TableList(list[Any]):
    """A plain list that shows as a table in notebooks (``get_all()``, ``project.requests``...).

    ``row`` turns one item into its cells (plain values, escaped when rendered).
    """

    def __init__(
        self,
        items: Iterable[Any],
        kind: str,
        headers: Sequence[str],
        row: Any,
    ):
        super().__init__(items)
        self._kind = kind
        self._headers = list(headers)
        self._row = row

    def _rows(self) -> list[Sequence[Any]]:
        return [self._row(item) for item in self]

    def __repr__(self) -> str:
        return text_table(self._headers, self._rows()) if self else "[]"

    def _repr_html_(self) -> str:
        return listing(self._kind, self._headers, self._rows())
