"""Think-tank feeds: RSS and Atom sources whose new publications are downloaded, each once,
with a metadata sidecar from the feed entry, into a folder that ``legatus ingest`` (or
``legatus watch``) reads.

A pull, per source: a conditional GET of the feed (``If-None-Match`` / ``If-Modified-Since``
from the last answer, so an unchanged feed costs one 304); for each entry not downloaded
before, its report: an enclosure or a link of a report type, else the entry's page, and on a
publication page (HTML) the first link to a PDF on it, else the page itself. A download is
checked before it is kept: status 200, a report content type (PDF, HTML, DOCX, text), at most
``max_mib`` (counted while it streams, not from the header), within ``timeout_s``. The file is
written with its sidecar (title, publisher, date, authors, language, url: the entry's page,
which becomes the citation's link) under a temporary name and moved into place, so an
ingest never reads half a download.

A source that fails (unreachable, 404, not a feed) is reported and tried again at the next
pull, after a back-off that doubles with each failure; it never stops the other sources. An
entry whose report fails is reported and tried again at the next pull.

The sources and what was downloaded are kept in a JSON file (``feeds.json``), replaced
atomically.

Example:
    >>> slug("Europe’s Defence: a 2026 Outlook")
    'europe-s-defence-a-2026-outlook'
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import json
import os
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from pydantic import BaseModel, Field

REPORT_TYPES = {
    "application/pdf": ".pdf",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "text/plain": ".txt",
    "text/markdown": ".md",
}
"""Content types a report may have, and the suffix its file gets."""

USER_AGENT = "Legatus/1 (report feed reader)"


class FeedError(Exception):
    """A feed or a report could not be fetched or kept; the message says why."""


class Source(BaseModel):
    """One feed and what its last pulls found."""

    url: str
    publisher: str = ""
    etag: str = ""
    last_modified: str = ""
    last_pull: str = ""  # ISO 8601, UTC
    last_error: str = ""
    failures: int = 0
    retry_after: float = 0.0  # time.time() before which a failed source is not tried again
    downloaded: int = 0


class Downloaded(BaseModel):
    """A report downloaded from an entry: its file (in the downloads folder) and when."""

    entry: str
    file: str
    url: str
    at: str


class FeedState(BaseModel):
    """The contents of ``feeds.json``."""

    sources: list[Source] = Field(default_factory=list)
    downloaded: dict[str, Downloaded] = Field(default_factory=dict)  # entry key → download


@dataclass(frozen=True)
class PullResult:
    """What one pull of one source did: reports written, entries skipped with why, and the
    source's own error (None: it was read)."""

    source: str
    written: tuple[Path, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()  # (entry link, reason)
    error: str | None = None
    unchanged: bool = False  # the server said 304
    waiting: bool = False  # not tried: still backing off after a failure


def slug(text: str, limit: int = 80) -> str:
    """A file-name-safe slug of ``text``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-")
    return out or "report"


def load_state(path: Path) -> FeedState:
    """The feed state at ``path`` (empty when there is none).

    Raises:
        FeedError: the file is not a feed state (damaged): it is left as it is.
    """
    try:
        return FeedState.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return FeedState()
    except (OSError, ValueError) as exc:
        raise FeedError(
            f"{path} cannot be read as the feed list ({exc}); fix or remove it"
        ) from exc


def save_state(path: Path, state: FeedState) -> None:
    """Write the state atomically (a temporary file moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, state.model_dump_json(indent=1).encode())


def add_source(state: FeedState, url: str, publisher: str = "") -> Source:
    """Add (or update the publisher of) the feed at ``url``.

    Raises:
        FeedError: ``url`` is not an http(s) address.
    """
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FeedError(f"{url!r} is not a feed address: give an http:// or https:// URL")
    for source in state.sources:
        if source.url == url:
            if publisher:
                source.publisher = publisher
            return source
    source = Source(url=url, publisher=publisher)
    state.sources.append(source)
    return source


class Fetcher:
    """HTTP GETs with the limits of a pull (timeout, size, content type)."""

    def __init__(self, timeout_s: float = 30.0, max_mib: int = 100) -> None:
        import httpx

        self.max_bytes = max_mib * 1024 * 1024
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s), follow_redirects=True,
            headers={"user-agent": USER_AGENT},
        )  # fmt: skip

    def close(self) -> None:
        self._client.close()

    def get(
        self, url: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of ``url``; the body stops at the size limit.

        Raises:
            FeedError: unreachable, timed out, or larger than the limit.
        """
        import httpx

        try:
            with self._client.stream("GET", url, headers=headers or {}) as reply:
                if reply.status_code != 200:
                    return reply.status_code, dict(reply.headers), b""
                declared = reply.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise FeedError(f"{url}: {int(declared) / 2**20:.0f} MiB, over the limit of "
                                    f"{self.max_bytes / 2**20:.0f} MiB")  # fmt: skip
                body = bytearray()
                for part in reply.iter_bytes():
                    body += part
                    if len(body) > self.max_bytes:
                        raise FeedError(f"{url}: over the limit of "
                                        f"{self.max_bytes / 2**20:.0f} MiB")  # fmt: skip
                return 200, dict(reply.headers), bytes(body)
        except httpx.TimeoutException as exc:
            raise FeedError(f"{url}: no answer within the timeout") from exc
        except httpx.HTTPError as exc:
            raise FeedError(f"{url}: cannot be fetched ({exc})") from exc


def pull(
    source: Source,
    state: FeedState,
    folder: Path,
    fetcher: Fetcher,
    *,
    now: Callable[[], float] = time.time,
) -> PullResult:
    """Pull one source: new entries' reports into ``folder`` (with sidecars); updates
    ``source`` and ``state`` (the caller saves them)."""
    import feedparser

    if source.retry_after > now():
        return PullResult(source.url, waiting=True)
    headers = {}
    if source.etag:
        headers["if-none-match"] = source.etag
    if source.last_modified:
        headers["if-modified-since"] = source.last_modified
    source.last_pull = _iso_now()
    try:
        status, got, body = fetcher.get(source.url, headers)
        if status == 304:
            _succeeded(source)
            return PullResult(source.url, unchanged=True)
        if status != 200:
            raise FeedError(f"{source.url}: the server answered {status}")
        feed = feedparser.parse(body)
        if not feed.entries and (feed.bozo or not feed.feed):
            raise FeedError(f"{source.url}: not an RSS or Atom feed")
    except FeedError as exc:
        source.failures += 1
        source.last_error = str(exc)
        source.retry_after = now() + min(60 * 2 ** (source.failures - 1), 24 * 3600)
        return PullResult(source.url, error=str(exc))
    source.etag = got.get("etag", "")
    source.last_modified = got.get("last-modified", "")
    _succeeded(source)
    written: list[Path] = []
    skipped: list[tuple[str, str]] = []
    publisher = source.publisher or str(feed.feed.get("title", ""))
    # Only an entry's own language: a feed's channel language is the site's, often not the
    # report's (one feed carries a think tank's Dutch and English publications).
    language = ""
    for entry in feed.entries:
        key = str(entry.get("id") or entry.get("link") or "")
        if not key or key in state.downloaded:
            continue
        page = str(entry.get("link", ""))
        try:
            path = _download(entry, page, publisher, language, folder, fetcher, source.url)
        except FeedError as exc:
            skipped.append((page or key, str(exc)))
            continue
        state.downloaded[key] = Downloaded(entry=key, file=path.name, url=page, at=_iso_now())
        source.downloaded += 1
        written.append(path)
    return PullResult(source.url, tuple(written), tuple(skipped))


def _succeeded(source: Source) -> None:
    source.failures, source.last_error, source.retry_after = 0, "", 0.0


def _download(
    entry: Any, page: str, publisher: str, language: str, folder: Path, fetcher: Fetcher,
    feed_url: str,
) -> Path:  # fmt: skip
    """Fetch an entry's report and write it with its sidecar; the report's path."""
    target = _report_link(entry) or page
    if not target:
        raise FeedError("the entry links to no report")
    target = urljoin(feed_url, target)
    status, headers, body = fetcher.get(target)
    if status != 200:
        raise FeedError(f"{target}: the server answered {status}")
    kind = _content_type(headers)
    if kind in ("text/html", "application/xhtml+xml"):  # a publication page: its PDF, if any
        pdf = _pdf_link(body, target)
        if pdf:
            status, headers, body = fetcher.get(pdf)
            if status != 200:
                raise FeedError(f"{pdf}: the server answered {status}")
            kind, target = _content_type(headers), pdf
    suffix = REPORT_TYPES.get(kind)
    if suffix is None:
        raise FeedError(f"{target}: {kind or 'no content type'} is not a report type")
    if suffix == ".pdf" and not body.startswith(b"%PDF"):
        raise FeedError(f"{target}: served as a PDF but is not one")
    title = " ".join(str(entry.get("title", "")).split())
    stem = slug(title or Path(urlparse(target).path).stem)
    stem = f"{stem}-{hashlib.sha256(target.encode()).hexdigest()[:8]}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}{suffix}"
    _atomic_write(path.with_name(path.name + ".meta.toml"), _sidecar(entry, title, publisher,
                  language, page or target).encode())  # fmt: skip
    _atomic_write(path, body)
    return path


def _report_link(entry: Any) -> str:
    for link in entry.get("links", []):
        kind = str(link.get("type", "")).split(";")[0].strip()
        if kind in REPORT_TYPES and kind not in ("text/html", "application/xhtml+xml"):
            return str(link.get("href", ""))
        if link.get("rel") == "enclosure" and link.get("href"):
            return str(link["href"])
    return ""


def _content_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if urlparse(href).path.lower().endswith(".pdf"):
                self.hrefs.append(href)


def _pdf_link(html: bytes, base: str) -> str:
    """The first link to a PDF on a publication page, absolute; "" if none."""
    parser = _Links()
    parser.feed(html.decode("utf-8", "replace"))
    return urljoin(base, parser.hrefs[0]) if parser.hrefs else ""


def _sidecar(entry: Any, title: str, publisher: str, language: str, url: str) -> str:
    """The report's ``.meta.toml``: what the feed says of it (TOML strings as JSON writes
    them, which TOML reads)."""
    lines = []
    if title:
        lines.append(f"title = {json.dumps(title, ensure_ascii=False)}")
    if publisher:
        lines.append(f"publisher = {json.dumps(publisher, ensure_ascii=False)}")
    date = _entry_date(entry)
    if date:
        lines.append(f'date = "{date}"')
    code = str(entry.get("language", "") or language).split("-")[0].lower()
    if re.fullmatch(r"[a-z]{2,3}", code):
        lines.append(f'language = "{code}"')
    if url.startswith(("http://", "https://")):
        lines.append(f"url = {json.dumps(url)}")
    authors = [" ".join(str(a.get("name", "")).split()) for a in entry.get("authors", [])]
    authors = [a for a in authors if a]
    if authors:
        lines.append(f"authors = {json.dumps(authors, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _entry_date(entry: Any) -> str:
    for key in ("published_parsed", "updated_parsed"):
        parsed = entry.get(key)
        if parsed:
            return dt.date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday).isoformat()
    for key in ("published", "updated"):
        text = entry.get(key)
        if text:
            try:
                return email.utils.parsedate_to_datetime(str(text)).date().isoformat()
            except (TypeError, ValueError):
                continue
    return ""


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _iso_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
