"""Document metadata: the ``.meta.toml`` sidecar, fallbacks from the file, a language guess.

A sidecar sits next to the report, as ``<file>.meta.toml`` (``report.pdf.meta.toml``) or
``<stem>.meta.toml`` (``report.meta.toml``); the first wins when both exist. Every key is
optional::

    title = "State of the Union 2026 – Expert Views"
    publisher = "Instituut Clingendael"
    date = "2026-03"            # ISO 8601: "2026", "2026-03" or "2026-03-15"
    language = "nl"
    url = "https://www.clingendael.org/..."
    authors = ["René Cuperus", "Frederiek Bax"]
    access = ["internal", "bz-dgpz"]  # only these groups may read it (ingest.access); none: all
    source_file = "report.pdf"  # the file the text came from, when it is not this one

Example:
    >>> title_from_stem("state-of-the-union_2026")
    'State of the union 2026'
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
import unicodedata
from pathlib import Path

from ingest.access import labels
from ingest.language import guess_language
from ingest.types import DocumentMeta, IngestError

SIDECAR_SUFFIX = ".meta.toml"
SIDECAR_KEYS = ("title", "publisher", "date", "language", "url", "authors", "source_file", "access")

_SLUG_SAFE = re.compile(r"[a-z0-9._-]+")
_ISO_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def find_sidecar(path: Path) -> Path | None:
    """The metadata sidecar of ``path``: ``<name>.meta.toml``, else ``<stem>.meta.toml``."""
    for candidate in (
        path.with_name(path.name + SIDECAR_SUFFIX),
        path.with_name(path.stem + SIDECAR_SUFFIX),
    ):
        if candidate.is_file():
            return candidate
    return None


def read_sidecar(sidecar: Path, *, for_file: str = "") -> dict[str, str | tuple[str, ...]]:
    """Parse and check a sidecar; the values are ready for `DocumentMeta`.

    Raises:
        IngestError: the sidecar cannot be read, is not TOML, or has a bad or unknown key.
    """
    where = f"{sidecar} (metadata for {for_file})" if for_file else str(sidecar)
    try:
        raw = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IngestError(f"{where}: cannot be read ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise IngestError(f"{where}: is not UTF-8; save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise IngestError(
            f"{where}: is not valid TOML ({exc}); fix the syntax, e.g. quote every value: "
            'date = "2026-03"'
        ) from exc
    fields: dict[str, str | tuple[str, ...]] = {}
    for key, value in raw.items():
        if key not in SIDECAR_KEYS:
            raise IngestError(
                f"{where}: unknown key {key!r}; the keys are {', '.join(SIDECAR_KEYS)}"
            )
        fields[key] = _check_value(key, value, where)
    return fields


def _check_value(key: str, value: object, where: str) -> str | tuple[str, ...]:
    if key == "authors":
        if not isinstance(value, list) or not all(
            isinstance(name, str) and name.strip() for name in value
        ):
            raise IngestError(
                f"{where}: key 'authors' must be a list of names, e.g. authors = [\"A. Jansen\", "
                f'"B. de Vries"]; got {value!r}'
            )
        return tuple(" ".join(name.split()) for name in value)
    if key == "access":
        return _check_access(value, where)
    if key == "date":
        return _check_date(value, where)
    if not isinstance(value, str):
        raise IngestError(f"{where}: key {key!r} must be a quoted string; got {value!r}")
    value = " ".join(value.split())
    if key == "title" and not value:
        raise IngestError(f"{where}: key 'title' is empty; give the report's title or drop the key")
    if key == "language" and value and not _LANGUAGE.fullmatch(value):
        raise IngestError(
            f'{where}: key \'language\' must be a language code such as "nl" or "en"; got {value!r}'
        )
    if key == "url" and value and not value.startswith(("http://", "https://")):
        raise IngestError(f"{where}: key 'url' must start with http:// or https://; got {value!r}")
    return value


def _check_access(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(x, str) for x in value):
        raise IngestError(
            f"{where}: key 'access' must be a non-empty list of group names, e.g. access = "
            f'["internal", "bz-dgpz"] (drop the key to let everyone read it); got {value!r}'
        )
    try:
        return labels(value)
    except ValueError as exc:
        raise IngestError(f"{where}: key 'access': {exc}") from exc


def _check_date(value: object, where: str) -> str:
    # An unquoted TOML date (date = 2026-03-15) arrives as a date object; accept it.
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    match = _ISO_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match:
        year, month, day = (int(part) if part else 1 for part in match.groups())
        try:
            dt.date(year, month, day)
            return match.group(0)
        except ValueError:
            pass
    raise IngestError(
        f'{where}: key \'date\' must be an ISO date such as "2026", "2026-03" or "2026-03-15"; '
        f"got {value!r}"
    )


def doc_id_for(path: Path) -> str:
    """The document id: the file stem, lower-cased and made slug-safe when it is not already.

    Example:
        >>> doc_id_for(Path("Rapport Europese Veiligheid (2024).pdf"))
        'rapport-europese-veiligheid-2024'
    """
    stem = path.stem
    if _SLUG_SAFE.fullmatch(stem):
        return stem
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9._-]+", "-", ascii_stem).strip("-._")
    return slug or "doc-" + hashlib.sha256(stem.encode()).hexdigest()[:12]


def title_from_stem(stem: str) -> str:
    """A readable title made from a file stem: ``state-of-the-union_2026`` → ``State of the …``."""
    words = " ".join(re.split(r"[-_\s]+", stem)).strip()
    if not words:
        return stem
    return words[0].upper() + words[1:] if words.islower() else words


def normalise_language(code: str) -> str:
    """The primary subtag of a declared language, lower-cased: ``nl-NL`` → ``nl``."""
    primary = code.strip().replace("_", "-").split("-")[0].lower()
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else ""


def _report_language(text: str) -> str:
    # Stricter than for a question, so that a Dutch report quoting English stays Dutch.
    return guess_language(text[:50_000], min_words=5, margin=1.5)


def build_meta(path: Path, *, title: str = "", text: str = "", language: str = "") -> DocumentMeta:
    """Metadata for ``path``: the sidecar's values, else what the reader found, else defaults.

    Args:
        path: the report file.
        title: the title the file itself gives (PDF info, HTML <title>, ...), if any.
        text: the document's text, for the language guess.
        language: the language the file declares (HTML lang, DOCX language), if any; used only
            when the stop-word guess is unsure, as templates often declare the wrong one.

    Raises:
        IngestError: the sidecar is invalid.
    """
    sidecar = find_sidecar(path)
    fields = read_sidecar(sidecar, for_file=path.name) if sidecar else {}

    def field(key: str) -> str:
        value = fields.get(key, "")
        return value if isinstance(value, str) else ""

    authors = fields.get("authors", ())
    return DocumentMeta(
        doc_id=doc_id_for(path),
        title=field("title") or " ".join(title.split()) or title_from_stem(path.stem),
        source_file=field("source_file") or path.name,
        publisher=field("publisher"),
        date=field("date"),
        language=field("language") or _report_language(text) or normalise_language(language),
        url=field("url"),
        authors=authors if isinstance(authors, tuple) else (),
        access=_tuple(fields.get("access", ())),
    )


def _tuple(value: str | tuple[str, ...]) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else ()
