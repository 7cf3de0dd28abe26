"""HTML reader: the main text of a page as headings, paragraphs, list items, table rows, quotes.

Navigation, site header and footer, sidebars, scripts, forms and cookie banners are dropped; when
the page has a ``<main>`` (or else one ``<article>``) only that is read.
"""

from __future__ import annotations

import re
from pathlib import Path

from bs4 import BeautifulSoup, Comment, NavigableString, Tag
from bs4.element import PreformattedString

from ingest.readers.meta import build_meta
from ingest.readers.text import read_bytes, squash
from ingest.types import Block, IngestError, RawDocument

# fmt: off
_DROP_TAGS = [
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "form", "button", "input", "select", "textarea", "nav", "aside", "dialog", "head",
]
# fmt: on
_DROP_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "dialog"}
_COOKIE = re.compile(r"cookie|consent|gdpr|cc-banner|privacy-banner", re.IGNORECASE)
_SECTIONING = ["article", "main", "section"]
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
# fmt: off
_BLOCK_TAGS = [
    "address", "article", "aside", "blockquote", "caption", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
    "header", "hgroup", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
    "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
]
# fmt: on
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_COOKIE_MAX_CHARS = 3000  # a cookie banner is short; a long element matching is the page itself
# Walking the tree recurses a few frames per nested block element; past this depth (real pages
# nest a few dozen levels) the rest of a subtree is read flat, so that 500 nested <div>s cannot
# exhaust Python's recursion limit.
_MAX_DEPTH = 64
_BREAK = "\x00"  # marks block boundaries in a flattened subtree; never in parsed HTML text
_END_OF_BLOCK = object()
_BLOCK_SET = frozenset(_BLOCK_TAGS)


def read_html(path: Path) -> RawDocument:
    """Read an HTML page into structured blocks of its main text.

    Example::

        doc = read_html(Path("page.html"))
        [b.kind for b in doc.blocks][:2]  # ['heading', 'paragraph']
    """
    data = read_bytes(path)
    try:
        soup = BeautifulSoup(data, "lxml")
    except Exception as exc:  # lxml/bs4 failures on odd input: report, do not crash
        raise IngestError(f"{path}: cannot be parsed as HTML ({exc}); check the file") from exc
    title = _title(soup)
    declared = soup.html.get("lang", "") if soup.html else ""
    _strip_boilerplate(soup)
    root = _main_element(soup)
    blocks: list[Block] = []
    if root is not None:
        _walk(root, blocks)
    if not blocks:
        raise IngestError(
            f"{path}: no readable text found in the page's main content; check that it is the "
            "report itself and not a page that loads its text with JavaScript"
        )
    first_h1 = next((b.text for b in blocks if b.kind == "heading" and b.level == 1), "")
    return RawDocument(
        meta=build_meta(
            path,
            title=title or first_h1,
            text="\n".join(block.text for block in blocks),
            language=str(declared),
        ),
        blocks=tuple(blocks),
    )


def _title(soup: BeautifulSoup) -> str:
    for name in ("citation_title", "dc.title", "og:title"):
        tag = soup.find("meta", attrs={"name": name}) or soup.find("meta", attrs={"property": name})
        if isinstance(tag, Tag) and str(tag.get("content", "")).strip():
            return squash(str(tag["content"]))
    return squash(soup.title.get_text()) if soup.title else ""


def _strip_boilerplate(soup: BeautifulSoup) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    doomed: list[Tag] = list(soup.find_all(_DROP_TAGS))
    for tag in soup.find_all(True):
        role = str(tag.get("role", "")).lower()
        ident = " ".join(
            [str(tag.get("id", "")), *(str(c) for c in tag.get_attribute_list("class") if c)]
        )
        if (
            role in _DROP_ROLES
            or tag.has_attr("hidden")
            or str(tag.get("aria-hidden", "")).lower() == "true"
            or _HIDDEN_STYLE.search(str(tag.get("style", ""))) is not None
            or (
                tag.name in ("div", "section", "aside", "p")
                and _COOKIE.search(ident) is not None
                and len(tag.get_text()) < _COOKIE_MAX_CHARS
            )
            # <header>/<footer> are page chrome, except when they belong to an article or section
            or (tag.name in ("header", "footer") and tag.find_parent(_SECTIONING) is None)
        ):
            doomed.append(tag)
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()


def _main_element(soup: BeautifulSoup) -> Tag | None:
    main = soup.find("main") or soup.find(True, attrs={"role": "main"})
    if isinstance(main, Tag):
        return main
    articles = soup.find_all("article")
    if len(articles) == 1 and isinstance(articles[0], Tag):
        return articles[0]
    return soup.body or soup


def _walk(element: Tag, out: list[Block], depth: int = 0) -> None:
    """Append the blocks of ``element``; loose text between block elements is a paragraph."""
    if depth > _MAX_DEPTH:
        _flatten(element, out)
        return
    loose: list[str] = []

    def flush() -> None:
        text = squash("".join(loose))
        if text:
            out.append(Block("paragraph", text))
        loose.clear()

    for child in element.children:
        if isinstance(child, Tag):
            if child.name in _BLOCK_TAGS or child.find(_BLOCK_TAGS) is not None:
                flush()
                _block(child, out, depth + 1)
            elif child.name == "br":
                loose.append(" ")
            else:
                loose.append(_inline_text(child))
        elif isinstance(child, NavigableString) and not isinstance(child, PreformattedString):
            loose.append(str(child))
    flush()


def _flatten(element: Tag, out: list[Block]) -> None:
    """Append the text of ``element`` as paragraphs, one per run between block elements.

    The fallback for subtrees nested too deep to walk: an explicit stack instead of recursion,
    and no changes to the tree (bs4 inserts cost time proportional to the depth). Structure
    (headings, lists, tables) is not kept there; the text is.
    """
    parts: list[str] = []
    stack: list[object] = list(reversed(element.contents))
    while stack:
        node = stack.pop()
        if node is _END_OF_BLOCK:
            parts.append(_BREAK)
        elif isinstance(node, Tag):
            if node.name == "br":
                parts.append(" ")
            elif node.name in _BLOCK_SET:
                parts.append(_BREAK)
                stack.append(_END_OF_BLOCK)
            stack.extend(reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            parts.append(str(node))
    for text in "".join(parts).split(_BREAK):
        _emit(out, "paragraph", text)


def _block(tag: Tag, out: list[Block], depth: int) -> None:
    name = tag.name
    if name in _HEADINGS:
        _emit(out, "heading", _inline_text(tag), level=_HEADINGS[name])
    elif name in ("p", "dt", "dd", "figcaption", "caption", "summary", "pre", "address"):
        if tag.find(_BLOCK_TAGS) is None:
            _emit(out, "paragraph", _inline_text(tag))
        else:
            _walk(tag, out, depth)
    elif name in ("ul", "ol"):
        _list(tag, out, depth)
    elif name == "table":
        _table(tag, out, depth)
    elif name == "blockquote":
        parts: list[Block] = []
        _walk(tag, parts, depth)
        out.extend(Block("quote", b.text) if b.kind == "paragraph" else b for b in parts)
    elif name == "hr":
        return
    else:
        _walk(tag, out, depth)


def _list(tag: Tag, out: list[Block], depth: int) -> None:
    ordered = tag.name == "ol"
    try:
        number = int(str(tag.get("start", "1")))
    except ValueError:
        number = 1
    for item in tag.find_all("li", recursive=False):
        # Lists directly nested in this item; deeper ones are handled by their own parent list.
        nested = [
            sub for sub in item.find_all(["ul", "ol"]) if sub.find_parent(["ul", "ol"]) is tag
        ]
        for sub in nested:
            sub.extract()
        marker = f"{number}. " if ordered else "- "
        text = _text_of(item, depth + 1)
        if text:
            out.append(Block("list_item", marker + text))
        number += 1
        for sub in nested:
            _list(sub, out, depth + 1)


def _table(tag: Tag, out: list[Block], depth: int) -> None:
    caption = tag.find("caption")
    if isinstance(caption, Tag):
        _emit(out, "paragraph", _inline_text(caption))
    for row in tag.find_all("tr"):
        if row.find_parent("table") is not tag:
            continue  # a row of a nested table; its text is in the outer cell already
        cells = [_text_of(cell, depth + 1) for cell in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            out.append(Block("table_row", " | ".join(cells)))


def _text_of(tag: Tag, depth: int) -> str:
    """All text of an element on one line; its paragraphs, if any, joined by a space."""
    parts: list[Block] = []
    _walk(tag, parts, depth)
    return " ".join(block.text for block in parts)


def _inline_text(tag: Tag) -> str:
    for br in tag.find_all("br"):
        br.replace_with(" ")
    return tag.get_text()


def _emit(out: list[Block], kind: str, text: str, *, level: int = 0) -> None:
    text = squash(text)
    if not text:
        return
    if kind == "heading":
        out.append(Block("heading", text, level=level))
    else:
        out.append(Block("paragraph", text))
