"""Report text as HTML: escaped, with the report's own emphasis shown, its footnote numbers told
apart from citation markers, and marks around the quoted sentences. Pure functions.

Report text is hostile input. Everything in it is escaped; the only markup it may carry is its
emphasis (``**bold**``, ``*italic*`` and matched pairs of the bare tags ``<i>``, ``<em>``,
``<b>``, ``<strong>`` that came through from the source), and Markdown links lose their address
(``[text](#)`` shows as *text*). Footnote numbers become ``<sup class="lg-fn">`` (so "beleid.[2]"
never reads as citation [2]) and a footnote line ("[2] Frank Bekkers et al., …") is wrapped in
``<span class="lg-fn-line">``.

Quotes are found in a *plain view* of the text: emphasis delimiters, link syntax and bracketed
footnote numbers left out, whitespace compared loosely, so a supporting sentence is marked
whether or not it kept the report's markup, across line breaks and across emphasis.

Example:
    >>> text = "Zie **Ben Knapen** en <i>cloud lock-in</i>.[2]"
    >>> to_html(text, find(text, ["Zie Ben Knapen en cloud lock-in."]))
    '<mark>Zie <strong>Ben Knapen</strong> en <em>cloud lock-in</em>.</mark><sup class="lg-fn" \
title="footnote 2">2</sup>'
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Span = tuple[int, int]

ORDER = ("fnline", "mark", "strong", "em")
"""How formats nest, outermost first; a format that crosses another is closed and reopened."""

_OPEN = {
    "fnline": '<span class="lg-fn-line">',
    "mark": "<mark>",
    "strong": "<strong>",
    "em": "<em>",
}
_CLOSE = {"fnline": "</span>", "mark": "</mark>", "strong": "</strong>", "em": "</em>"}

_STRONG = re.compile(r"\*\*(?=\S)[^*<>]{1,500}?(?<=\S)\*\*")
# closing: not before a word character, but a footnote number may follow ("cost.”*⁵")
_EM = re.compile(r"(?<![\w*])\*(?=\S)[^*<>]{1,500}?(?<=\S)\*(?!\*|(?![⁰¹²³⁴⁵⁶⁷⁸⁹])\w)")
_TAG = re.compile(r"<(i|em|b|strong)>[^<>]{1,300}?</\1>", re.IGNORECASE)
_STRAY = re.compile(r"(?<=\S)\*\*(?=\s|$)|(?:^|(?<=\s))\*\*(?=\S)")
_LINK = re.compile(r"\[[^\[\]\n]{1,300}\]\([^()\s]{0,500}\)")
_REF = re.compile(r"(?<=\S)\[(\d{1,3})\]")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
# after a word or closing punctuation; not after a digit ("10⁶") or a unit ("km²", "m³")
_SUP = re.compile(rf"(?<=[^\s\d{_SUPERSCRIPTS}])(?<!\b[kcdm]m)(?<!\bm)[{_SUPERSCRIPTS}]{{1,3}}")
# "versterken.2 Dat": a number glued to the end of a sentence, as PDF extractions leave them
_BARE = re.compile(r"(?:(?<=[^\W\d_][.!?;:])|(?<=[.!?][”’\"')]))\d{1,2}(?=\s|$)")
_FOOTNOTE_LINE = re.compile(r"^[ \t]*(?:\[(\d{1,3})\]|(\d{1,3}))[ \t]+\S.*$", re.MULTILINE)
# a line opening with a bare number is a footnote only if it reads like a reference
_REFERENCE = re.compile(r"\b(?:19|20)\d\d\b|https?:|\(#\)|[‘“]")


@dataclass(frozen=True)
class _Token:
    """A run of the raw text shown otherwise: ``html`` in its place (nothing for a delimiter);
    ``plain``: whether the run stays in the plain view that quotes are matched in."""

    start: int
    end: int
    html: str = ""
    plain: bool = False


@dataclass(frozen=True)
class _Parsed:
    tokens: tuple[_Token, ...]  # in text order, not overlapping
    formats: tuple[tuple[int, int, str], ...]  # (start, end, one of ORDER but "mark")


def esc(text: str) -> str:
    """HTML-escape untrusted text (quotes included, so it is safe inside attributes too)."""
    return html.escape(text, quote=True)


def _sup(number: str, label: str) -> str:
    return f'<sup class="lg-fn" title="{esc(label)} {number}">{number}</sup>'


class _Claims:
    """Tokens accepted so far, by start; a candidate overlapping one of them is refused."""

    def __init__(self) -> None:
        self.taken: list[_Token] = []  # sorted by start, never overlapping

    def free(self, *spans: Span) -> bool:
        for start, end in spans:
            i = bisect.bisect_left(self.taken, start, key=lambda t: t.start)
            if i > 0 and self.taken[i - 1].end > start:
                return False
            if i < len(self.taken) and self.taken[i].start < end:
                return False
        return True

    def add(self, *tokens: _Token) -> None:
        for token in tokens:
            bisect.insort(self.taken, token, key=lambda t: t.start)


def _parse(text: str, footnotes: bool, label: str) -> _Parsed:
    claims = _Claims()
    formats: list[tuple[int, int, str]] = []
    for m in _LINK.finditer(text):  # [text](address): the text stays, the syntax goes
        close = text.index("](", m.start())
        claims.add(_Token(m.start(), m.start() + 1), _Token(close, m.end()))
    pairs = [(_TAG, None), (_STRONG, 2), (_EM, 1)]
    for pattern, width in pairs:
        for m in pattern.finditer(text):
            if "\n\n" in m.group():
                continue  # emphasis never runs over a paragraph break
            if width is None:
                tag = m.group(1)
                opening, closing = len(tag) + 2, len(tag) + 3
                kind = "em" if tag.lower() in ("i", "em") else "strong"
            else:
                opening = closing = width
                kind = "strong" if width == 2 else "em"
            first, last = (m.start(), m.start() + opening), (m.end() - closing, m.end())
            if claims.free(first, last):
                claims.add(_Token(*first), _Token(*last))
                formats.append((m.start(), m.end(), kind))
    for m in _STRAY.finditer(text):  # the other half lies outside this passage
        if claims.free(m.span()):
            claims.add(_Token(*m.span()))
    if footnotes:
        formats += _footnotes(text, claims, label)
    return _Parsed(tuple(claims.taken), tuple(formats))


def _footnotes(text: str, claims: _Claims, label: str) -> list[tuple[int, int, str]]:
    lines: list[tuple[int, int, str]] = []
    for m in _FOOTNOTE_LINE.finditer(text):
        bracketed = m.group(1) is not None
        if not bracketed and not _REFERENCE.search(m.group()):
            continue
        group = 1 if bracketed else 2
        start, end = (m.start(group) - 1, m.end(group) + 1) if bracketed else m.span(group)
        if claims.free((start, end)):
            claims.add(_Token(start, end, _sup(m.group(group), label), plain=not bracketed))
            lines.append((m.start(), m.end(), "fnline"))
    for pattern, plain in ((_REF, False), (_SUP, True), (_BARE, True)):
        for m in pattern.finditer(text):
            number = (m.group(1) if m.groups() else m.group()).translate(_DIGITS)
            if claims.free(m.span()):
                claims.add(_Token(m.start(), m.end(), _sup(number, label), plain=plain))
    return lines


_DIGITS = str.maketrans(_SUPERSCRIPTS, "0123456789")


def plain(text: str) -> tuple[str, list[int]]:
    """The text as quotes are matched in it, and for each of its characters the position it
    has in ``text``.

    Example:
        >>> plain("**Vet**.[2]")
        ('Vet.', [2, 3, 4, 7])
    """
    parsed = _parse(text, footnotes=True, label="")
    hidden = [t for t in parsed.tokens if not t.plain]
    keep: list[int] = []
    pos = 0
    for token in hidden:
        keep.extend(range(pos, token.start))
        pos = token.end
    keep.extend(range(pos, len(text)))
    return "".join(text[i] for i in keep), keep


def find(text: str, quotes: Iterable[str]) -> list[Span]:
    """Where each quote occurs in ``text`` (every occurrence), as spans of ``text``.

    A quote matches across differences in whitespace and in the report's markup (emphasis,
    links, bracketed footnote numbers), which either side may have kept or lost.

    Example:
        >>> find("a **b**\\nc", ["b c"])
        [(4, 9)]
    """
    view, where = plain(text)
    spans: list[Span] = []
    for quote in quotes:
        words = plain(quote)[0].split()
        if not words:
            continue
        pattern = re.compile(r"\s+".join(re.escape(w) for w in words))
        spans += [(where[m.start()], where[m.end() - 1] + 1) for m in pattern.finditer(view)]
    return sorted(spans)


def to_html(
    text: str,
    marks: Sequence[Span] = (),
    *,
    mark_id: str = "",
    anchors: Mapping[int, str] | None = None,
    footnotes: bool = True,
    footnote_label: str = "footnote",
) -> str:
    """``text`` as escaped HTML with its emphasis and footnotes shown and ``marks`` marked.

    Args:
        text: report text (untrusted).
        marks: spans of ``text`` to wrap in ``<mark>`` (overlapping and touching ones merge).
        mark_id: the ``id`` of the first ``<mark>`` element ("" for none).
        anchors: HTML to insert at positions of ``text`` (e.g. empty elements with an ``id``);
            trusted: the caller builds it.
        footnotes: style footnote numbers and lines (off for an answer's own sentences).
        footnote_label: the word before a footnote's number in its tooltip.
    """
    parsed = _parse(text, footnotes, footnote_label)
    tokens = {t.start: t for t in parsed.tokens}
    starts = [t.start for t in parsed.tokens]
    snapped = [_snap(s, e, parsed.tokens, starts) for s, e in marks]
    ranges = [*parsed.formats, *((s, e, "mark") for s, e in snapped if e > s)]
    inserts: dict[int, str] = {}
    for at, piece in sorted((anchors or {}).items()):
        at = _snap(at, at, parsed.tokens, starts)[0]
        inserts[at] = inserts.get(at, "") + piece
    # a sweep over the boundaries: how many ranges of each format cover the text from here
    changes: dict[int, list[tuple[str, int]]] = {}
    for s, e, kind in ranges:
        changes.setdefault(s, []).append((kind, 1))
        changes.setdefault(e, []).append((kind, -1))
    cuts = {0, len(text), *inserts, *changes, *(x for t in parsed.tokens for x in (t.start, t.end))}
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    depth = dict.fromkeys(ORDER, 0)
    out: list[str] = []
    stack: list[str] = []
    first_mark = [bool(mark_id)]
    for a, b in zip(bounds, [*bounds[1:], len(text)], strict=True):
        for kind, delta in changes.get(a, ()):
            depth[kind] += delta
        if a in inserts:
            out.append(inserts.pop(a))
        token = tokens.get(a)
        if b <= a or (token is not None and not token.html):
            continue  # nothing here, or a delimiter: shown by the format it opens or closes
        _move(stack, [f for f in ORDER if depth[f] > 0], out, mark_id, first_mark)
        out.append(token.html if token is not None else esc(text[a:b]))
    _move(stack, [], out, mark_id, first_mark)
    return "".join(out)


def _snap(start: int, end: int, tokens: Sequence[_Token], starts: Sequence[int]) -> Span:
    """A span widened to whole tokens (a mark never splits "[2]" or "**")."""
    for at in (start, end):
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0 and tokens[i].start < at < tokens[i].end:
            start, end = min(start, tokens[i].start), max(end, tokens[i].end)
    return start, end


def _move(
    stack: list[str], want: list[str], out: list[str], mark_id: str, first: list[bool]
) -> None:
    """Close the open formats down to what ``want`` shares with them, then open the rest."""
    keep = 0
    while keep < min(len(stack), len(want)) and stack[keep] == want[keep]:
        keep += 1
    while len(stack) > keep:
        out.append(_CLOSE[stack.pop()])
    for f in want[keep:]:
        if f == "mark" and first[0]:
            out.append(f'<mark id="{esc(mark_id)}">')
            first[0] = False
        else:
            out.append(_OPEN[f])
        stack.append(f)
