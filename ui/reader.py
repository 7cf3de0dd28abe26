"""The reports themselves, beside the chat page: a PDF opened at a page, any other report as a
reading view of its indexed text. A source card's "open the report" link leads here.

Routes (GET), added to the page's own server by :func:`mount_reader`:

* ``/reports/<doc_id>/file`` — the indexed PDF, byte for byte (``#page=N`` opens it at page N),
  only while the file at the recorded path still has the content hash it was indexed with.
* ``/reports/<doc_id>/read`` — the report as indexed (any format): escaped text with its own
  emphasis and footnotes shown, its section headings, an anchor ``id="<chunk id>"`` at the start
  of every stored passage, and the passages named in ``?mark=<id>,<id>`` marked.
* ``/reports/reader.css`` — the reading view's style sheet (the page's CSP allows no inline
  script, and none is needed).

Only reports in the current index's manifest, as the visitor may see it (their groups, see
``ingest.access``), are served: ``doc_id`` is a key into it, and the only file ever opened is
the one the manifest records for that report, so nothing in the URL reaches the filesystem.
When the page has a login, a request without Gradio's session cookie (the one its login sets)
is refused with 401.

Example:
    >>> app.launch(prevent_thread_lock=True)  # doctest: +SKIP
    >>> mount_reader(app.app, live.current, settings)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from gradio.routes import App as GradioApp

from index.types import DocumentEntry, IndexManifest
from ingest.access import Groups
from ingest.types import Chunk
from ui.i18n import from_accept_language, is_lang, texts
from ui.live import Loaded
from ui.richtext import Span, esc, to_html
from ui.settings import UISettings

PDF_POLICY = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
"""The PDF's own Content-Security-Policy, instead of the page's: Chromium shows a PDF in a page
it makes up, with an ``<embed>`` and inline styles, which ``object-src 'none'`` would block. A
PDF runs no script of this origin, so what is left is that nothing may frame it."""

MAX_MARKED = 20
"""At most this many passages are marked (a merged citation covers two or three)."""

_TEXT = {
    "en": {
        "reading_view": "reading view",
        "note": "The report's text as Legatus indexed it.",
        "to_cited": "Go to the cited passage",
        "cited": "cited passage",
        "footnote": "footnote",
        "no_index": "No index is loaded; run `legatus ingest` and reload the page.",
        "unknown": "There is no report “{doc}” in the index. Open reports from the links on "
        "the source cards of the chat page.",
        "no_file": "The index does not record which file this report was read from; run "
        "`legatus ingest` again to record it.",
        "not_pdf": "Only PDF reports are opened as the original file.",
        "missing": "The file this report was indexed from is no longer there; run `legatus "
        "ingest` to update the index.",
        "changed": "The file this report was indexed from has changed since; run `legatus "
        "ingest` to index the new version.",
        "read_instead": "Read the indexed text instead",
        "sign_in": "Sign in on the Legatus page first, then open the report again.",
        "to_page": "Go to the Legatus page",
        "title": "Legatus: report not available",
    },
    "nl": {
        "reading_view": "leesweergave",
        "note": "De tekst van het rapport zoals Legatus die indexeerde.",
        "to_cited": "Naar de geciteerde passage",
        "cited": "geciteerde passage",
        "footnote": "voetnoot",
        "no_index": "Er is geen index geladen; voer `legatus ingest` uit en laad de pagina "
        "opnieuw.",
        "unknown": "Er is geen rapport “{doc}” in de index. Open rapporten via de links op de "
        "bronkaarten van de chatpagina.",
        "no_file": "De index weet niet uit welk bestand dit rapport is gelezen; voer `legatus "
        "ingest` opnieuw uit om het vast te leggen.",
        "not_pdf": "Alleen PDF-rapporten worden als origineel bestand geopend.",
        "missing": "Het bestand waaruit dit rapport is geïndexeerd is er niet meer; voer "
        "`legatus ingest` uit om de index bij te werken.",
        "changed": "Het bestand waaruit dit rapport is geïndexeerd is sindsdien veranderd; voer "
        "`legatus ingest` uit om de nieuwe versie te indexeren.",
        "read_instead": "Lees in plaats daarvan de geïndexeerde tekst",
        "sign_in": "Meld u eerst aan op de Legatus-pagina en open het rapport dan opnieuw.",
        "to_page": "Naar de Legatus-pagina",
        "title": "Legatus: rapport niet beschikbaar",
    },
}

CSS = """
body { margin: 0; font: 17px/1.6 system-ui, -apple-system, "Segoe UI", sans-serif;
  color: #1f2328; background: #fff; }
.lg-r-head, main { max-width: 46rem; margin: 0 auto; padding: 0 1.25rem; }
.lg-r-head { padding-top: 1.5rem; border-bottom: 1px solid #d0d7de; padding-bottom: 1rem; }
.lg-r-brand, .lg-r-meta, .lg-r-note { margin: .25rem 0; color: #57606a; font-size: .9rem; }
h1 { font-size: 1.6rem; line-height: 1.3; margin: .5rem 0; }
h2 { font-size: 1.3rem; margin-top: 2.2rem; } h3 { font-size: 1.15rem; margin-top: 1.8rem; }
h4, h5, h6 { font-size: 1rem; margin-top: 1.5rem; }
.lg-r-text { white-space: pre-line; margin: .75rem 0; }
mark { background: #fff3b0; color: inherit; }
.lg-r-at { scroll-margin-top: 4rem; }
.lg-fn { font-size: .75em; color: #57606a; }
.lg-fn-line { font-size: .88em; color: #57606a; }
a { color: #0b5cad; }
@media (prefers-color-scheme: dark) {
  body { color: #e6edf3; background: #0d1117; }
  .lg-r-brand, .lg-r-meta, .lg-r-note, .lg-fn, .lg-fn-line { color: #9198a1; }
  mark { background: #5c4b00; }
  a { color: #6cb6ff; }
}
"""


# --- the reading view (pure) -------------------------------------------------------------------


def reading_view(
    entry: DocumentEntry, chunks: Sequence[Chunk], marked: Collection[str] = (), *, lang: str = "en"
) -> str:
    """The reading view of one report: its stored passages in text order as one text, section
    by section, each passage's start an anchor (its id), the ``marked`` passages marked.

    Args:
        entry: the report's manifest entry (title, publisher, date, language).
        chunks: its stored passages, in text order.
        marked: ids of the passages to mark (the cited ones).
        lang: the interface language (the few words of the page's own).
    """
    words = texts(_TEXT, lang)
    first = next((c.id for c in chunks if c.id in marked), "")
    jump = f'<p class="lg-r-note"><a href="#{esc(first)}">{esc(words["to_cited"])}</a></p>'
    report_lang = f' lang="{esc(entry.language)}"' if entry.language else ""
    meta = " · ".join(esc(x) for x in (entry.publisher, entry.date, entry.source_file) if x)
    sections = "".join(_sections(chunks, set(marked), words["footnote"]))
    return (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(entry.title)} — Legatus</title>"
        '<link rel="stylesheet" href="../reader.css"></head><body>'
        f'<header class="lg-r-head"><p class="lg-r-brand">Legatus · {esc(words["reading_view"])}'
        f'</p><h1{report_lang}>{esc(entry.title)}</h1><p class="lg-r-meta">{meta}</p>'
        f'<p class="lg-r-note">{esc(words["note"])}</p>{jump if first else ""}</header>'
        f"<main><article{report_lang}>{sections}</article></main></body></html>"
    )


def _sections(chunks: Sequence[Chunk], marked: set[str], footnote: str) -> list[str]:
    """One ``<section>`` per run of passages in the same section, headed by its heading."""
    groups: list[list[Chunk]] = []
    for c in chunks:
        if groups and groups[-1][0].section == c.section:
            groups[-1].append(c)
        else:
            groups.append([c])
    out: list[str] = []
    open_paths: list[tuple[str, ...]] = []  # the sections shown whose subsections follow
    for group in groups:
        path = group[0].section
        while open_paths and open_paths[-1] != path[: len(open_paths[-1])]:
            open_paths.pop()
        level = min(2 + len(open_paths), 6)
        if path:
            open_paths.append(path)
        out.append(_section(group, marked, footnote, level))
    return out


def _section(group: Sequence[Chunk], marked: set[str], footnote: str, level: int) -> str:
    text, anchors, marks = _joined(group, marked)
    path = group[0].section
    head = text.split("\n\n", 1)[0]
    heading, body_at = "", 0
    if path and len(head) <= 300 and head.strip().endswith(path[-1]):
        heading, body_at = head.strip(), min(len(head) + 2, len(text))
    elif path:
        heading = path[-1]
    before = "".join(h for at, h in sorted(anchors.items()) if at < body_at)
    inside = {at - body_at: h for at, h in anchors.items() if at >= body_at}
    shifted = [(max(s, body_at) - body_at, e - body_at) for s, e in marks if e > body_at]
    body = to_html(text[body_at:], shifted, anchors=inside, footnote_label=footnote)
    title = f"<h{level}>{to_html(heading, footnotes=False)}</h{level}>" if heading else ""
    text_html = f'<div class="lg-r-text">{body}</div>' if body.strip() else body
    return f"<section>{before}{title}{text_html}</section>"


def _joined(group: Sequence[Chunk], marked: set[str]) -> tuple[str, dict[int, str], list[Span]]:
    """The text the passages of one section cover (overlaps once, the whitespace between them
    restored as ``index.ranking.join_passages`` does), the anchor at each passage's start, and
    the extents of the marked ones, in that text."""
    base, end = group[0].start, group[0].start
    text = ""
    anchors: dict[int, str] = {}
    marks: list[Span] = []
    for c in group:
        if c.start > end:
            gap = c.start - end
            text += " " if gap == 1 else "\n\n" + " " * (gap - 2)
        if c.end > max(end, c.start):
            text += c.text[max(end, c.start) - c.start :]
        end = max(end, c.end)
        anchors[c.start - base] = f'<span class="lg-r-at" id="{esc(c.id)}"></span>'
        if c.id in marked:
            marks.append((c.start - base, c.end - base))
    return text, anchors, marks


# --- the routes ---------------------------------------------------------------------------------


def mount_reader(app: FastAPI, current: Callable[[Groups], Loaded], settings: UISettings) -> None:
    """Add the report routes to the page's server (Gradio's FastAPI app, after ``launch``).

    Args:
        app: the server's app (``blocks.app`` once launched).
        current: the assistant and manifest of the index as it is now, as a reader of the
            given groups sees it (``LiveAssistant.current``).
        settings: the page's settings; with ``auth`` set, only signed-in users are served, and
            each only the reports their groups (``settings.groups``) may read.
    """
    app.include_router(reader_router(current, settings))


def reader_router(current: Callable[[Groups], Loaded], settings: UISettings) -> APIRouter:
    """The report routes as a router (see the module's description)."""
    router = APIRouter(prefix="/reports")
    chunk_store = _ChunkStore()

    @router.get("/reader.css", include_in_schema=False)
    def reader_css() -> Response:
        return PlainTextResponse(CSS, media_type="text/css", headers={"cache-control": "no-cache"})

    @router.get("/{doc_id}/file", include_in_schema=False)
    async def report_file(request: Request, doc_id: str) -> Response:
        lang = _lang(request)
        refused, user = await _visitor(request, settings, lang)
        if refused is not None:
            return refused
        found = _entry(current(settings.groups_for(user)), doc_id, lang)
        if isinstance(found, Response):
            return found
        return await _file_response(found, lang)

    @router.get("/{doc_id}/read", include_in_schema=False)
    async def report_text(request: Request, doc_id: str, mark: str = "") -> Response:
        lang = _lang(request)
        refused, user = await _visitor(request, settings, lang)
        if refused is not None:
            return refused
        loaded = current(settings.groups_for(user))
        found = _entry(loaded, doc_id, lang)
        if isinstance(found, Response):
            return found
        chunks = chunk_store.of(loaded, found)
        known = {c.id for c in chunks}
        marked = [m for m in mark.split(",")[:MAX_MARKED] if m in known]
        page = reading_view(found, chunks, marked, lang=lang)
        return HTMLResponse(page, headers={"cache-control": "private, no-store"})

    return router


class _ChunkStore:
    """Stored passages by id, for the index in use (rebuilt when ``legatus ingest`` swaps in a
    new one)."""

    def __init__(self) -> None:
        self._index: object = None
        self._by_id: dict[str, Chunk] = {}

    def of(self, loaded: Loaded, entry: DocumentEntry) -> list[Chunk]:
        index = loaded.assistant.index
        if index is not self._index:
            self._by_id = {c.id: c for c in index.chunks}
            self._index = index
        by_id = self._by_id
        return [by_id[i] for i in entry.chunk_ids if i in by_id]


def _lang(request: Request) -> str:
    asked = request.query_params.get("lang", "")
    return asked if is_lang(asked) else from_accept_language(request.headers.get("accept-language"))


async def _visitor(
    request: Request, settings: UISettings, lang: str
) -> tuple[Response | None, str | None]:
    """(401, None) when the page has a login and the request carries no signed-in session;
    else (None, the signed-in user or None without login). A report the user's groups may not
    read is then as unknown to them as one that is not indexed.

    Gradio's login (``POST /login``) sets the cookie ``access-token-<cookie_id>`` (and an
    ``-unsecure-`` twin for plain HTTP) to a token it keeps in ``app.tokens``; a request is signed
    in when one of them names a token there, as Gradio's own ``/gradio_api/user`` decides.
    """
    app = request.app
    gradio = app if isinstance(app, GradioApp) else None
    if not settings.auth and (
        gradio is None or (gradio.auth is None and not gradio.auth_dependency)
    ):
        return None, None
    user = await _user(request, gradio) if gradio is not None else None
    if user:
        return None, user
    return _message(401, texts(_TEXT, lang)["sign_in"], lang, link=("../../", "to_page")), None


async def _user(request: Request, app: GradioApp) -> str | None:
    if app.auth_dependency is not None:
        user: Any = app.auth_dependency(request)
        if inspect.isawaitable(user):
            user = await user
        return str(user) if user else None
    for name in (f"access-token-{app.cookie_id}", f"access-token-unsecure-{app.cookie_id}"):
        token = request.cookies.get(name)
        if token and token in app.tokens:
            return str(app.tokens[token])
    return None


def _entry(loaded: Loaded, doc_id: str, lang: str) -> DocumentEntry | Response:
    manifest: IndexManifest | None = loaded.manifest
    words = texts(_TEXT, lang)
    if manifest is None:
        return _message(404, words["no_index"], lang)
    entry = manifest.documents.get(doc_id)
    if entry is None:
        return _message(404, words["unknown"].format(doc=doc_id[:200]), lang)
    return entry


async def _file_response(entry: DocumentEntry, lang: str) -> Response:
    """The PDF's bytes, if the recorded file is still the indexed one; else a 404 that says why
    and links to the reading view."""
    import anyio.to_thread  # Starlette's own thread pool: reading a large file must not block

    words = texts(_TEXT, lang)
    read = ("read", "read_instead")
    if not entry.path:
        return _message(404, words["no_file"], lang, link=read)
    path = Path(entry.path)
    if path.suffix.lower() != ".pdf":
        return _message(404, words["not_pdf"], lang, link=read)
    try:
        data = await anyio.to_thread.run_sync(path.read_bytes)
    except OSError:
        return _message(404, words["missing"], lang, link=read)
    if hashlib.sha256(data).hexdigest() != entry.content_hash:
        return _message(404, words["changed"], lang, link=read)
    name = quote(path.name)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "content-disposition": f"inline; filename*=UTF-8''{name}",
            "content-security-policy": PDF_POLICY,
            "cache-control": "private, no-cache",
        },
    )


def _message(status: int, text: str, lang: str, link: tuple[str, str] | None = None) -> Response:
    """A short readable page saying why a report cannot be shown (never a bare JSON error)."""
    words = texts(_TEXT, lang)
    more = f'<p><a href="{esc(link[0])}">{esc(words[link[1]])}</a></p>' if link else ""
    page = (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8">'
        f'<title>{esc(words["title"])}</title><link rel="stylesheet" href="../reader.css"></head>'
        f"<body><main><h1>{esc(words['title'])}</h1><p>{esc(text)}</p>{more}</main></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers={"cache-control": "no-store"})
