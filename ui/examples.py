"""Example questions for the empty chat, drawn from the headings of the indexed reports.

A content section's heading becomes a question in the interface language ("Wat zegt het
HCSS-rapport over gevoelige technologieën?"); front and back matter (contents, colophon,
biographies, bibliography, notes, appendices), numbered-only, generic and repeated headings are
left out. Candidates are taken in turns from each report, spread over it, and each is asked: only
questions the assistant answers from the report they name are offered.

Example:
    >>> example_questions(assistant, "nl", n=2)  # doctest: +SKIP
    ['Wat zegt het Clingendael-rapport over kopgroepvorming?',
     'Wat zegt het HCSS-rapport over gevoelige technologieën?']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from assistant.evidence import is_matter
from assistant.pipeline import Assistant
from assistant.sentences import report_names
from assistant.types import AssistantError
from index.terms import fold
from ingest.types import Chunk, DocumentMeta

TEMPLATES: dict[str, dict[str, str]] = {
    "en": {"topic": "What does {report} say about {topic}?", "report": "the {name} report",
           "generic": "the report", "quote": "“{heading}”"},
    "nl": {"topic": "Wat zegt {report} over {topic}?", "report": "het {name}-rapport",
           "generic": "het rapport", "quote": "‘{heading}’"},
}  # fmt: skip

# Headings that name a part of any report rather than what it is about.
_GENERIC = frozenset(
    fold(w)
    for w in (
        "samenvatting", "managementsamenvatting", "inleiding", "introductie", "conclusie",
        "conclusies", "slotbeschouwing", "voorwoord", "woord vooraf", "programma", "agenda",
        "diagnose", "achtergrond", "overzicht", "methodologie", "methode", "aanbevelingen",
        "summary", "executive summary", "introduction", "conclusion", "conclusions", "preface",
        "foreword", "programme", "program", "background", "overview", "methodology", "method",
        "recommendations", "expert views", "key findings", "kernbevindingen",
    )
)  # fmt: skip
# Back matter the assistant's own test (assistant.evidence.is_matter) leaves to the questions
# that ask for it, and appendices, which hold material rather than the report's argument.
_APPENDIX = re.compile(r"^(bijlage|bijlagen|appendix|appendices|annex|annexes)\b", re.IGNORECASE)
# Numbering in front of a heading: "2.1.", "3", "IV.", "Thema 3 |", "Chapter 2:".
_NUMBERING = re.compile(
    r"^(?:(?:thema|theme|hoofdstuk|chapter|deel|part|sectie|section)\s+)?"
    r"(?:\d+(?:\.\d+)*|[ivxlc]+)\.?(?:\s*[|:–—-]\s*|\s+|$)",
    re.IGNORECASE,
)
# Finite verbs that make a heading a statement ("Afschrikking is niet langer voldoende"): such a
# heading is quoted rather than read as a topic.
_VERB = re.compile(
    r"\b(is|zijn|was|waren|wordt|worden|heeft|hebben|kan|kunnen|moet|moeten|zal|zullen|gaat|"
    r"gaan|blijft|blijven|vergt|vergen|are|were|has|have|can|must|will|should|does|do)\b",
    re.IGNORECASE,
)
# Words a subject cannot open with after "over"/"about": question words and prepositions.
_OPENERS = frozenset(
    "wat welke welk waarom hoe wie waar wanneer op naar van over in met voor door bij uit tot om "
    "tussen onder na what which why how who where when on to from of about with for by at "
    "towards beyond after before".split()
)
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
MIN_SECTION_CHARS = 400
"""A section (with its sub-sections) shorter than this says too little to answer from."""
MAX_WORDS = 8
"""A longer heading makes a question nobody would type."""


@dataclass(frozen=True)
class Topic:
    """A heading of one report, cleaned, that a question can be asked about."""

    doc_id: str
    heading: str


def strip_numbering(heading: str) -> str:
    """The heading without its number ("2.1. Gevoelige technologieën" → "Gevoelige
    technologieën"); "" when it is nothing but a number ("Thema 3").

    Example:
        >>> strip_numbering("2.1. Gevoelige technologieën"), strip_numbering("Thema 3")
        ('Gevoelige technologieën', '')
        >>> strip_numbering("Chapter 2: Arms control"), strip_numbering("EU-China relatie")
        ('Arms control', 'EU-China relatie')
    """
    text = " ".join(heading.strip("*#_ ").split())
    while (m := _NUMBERING.match(text)) and m.end() > 0:
        text = text[m.end() :].strip()
    return text.rstrip(":;,.").strip()


def usable_heading(heading: str, names: Sequence[str] = ()) -> bool:
    """Whether a cleaned heading names a subject to ask about: not generic, not shouted in
    capitals, of two to :data:`MAX_WORDS` words (or one long word), and more than the names of
    its report (``names``, folded, as ``assistant.sentences.report_names`` gives them).

    Example:
        >>> names = ["state of the union", "expert views", "clingendael"]
        >>> [usable_heading(h, names) for h in (
        ...     "Gevoelige technologieën", "Kopgroepvorming", "Samenvatting", "Diagnose",
        ...     "STATE OF THE UNION 2026", "PROGRAMMA", "EU", "Clingendael State of the Union")]
        [True, True, False, False, False, False, False, False]
    """
    words = _WORD.findall(heading)
    key = f" {fold(' '.join(words))} "
    if not words or key.strip() in _GENERIC or heading.isupper():
        return False
    if len(words) > MAX_WORDS or (len(words) == 1 and len(words[0]) < 6):
        return False
    for name in names:
        key = key.replace(f" {name} ", " ")
    return bool(key.strip())


def is_back_matter(path: Sequence[str]) -> bool:
    """A section of front or back matter, or an appendix, at any level of its path.

    Example:
        >>> is_back_matter(("Colofon",)), is_back_matter(("Bijlage", "Wereld A"))
        (True, True)
        >>> is_back_matter(("Thema 1", "Geopolitiek & governance"))
        False
    """
    return is_matter(path) or any(_APPENDIX.match(strip_numbering(p) or p) for p in path)


def topics(chunks: Iterable[Chunk], documents: Mapping[str, DocumentMeta]) -> list[Topic]:
    """The headings questions can be asked about, in report order, per report.

    A heading is left out when its section (with its sub-sections) is front or back matter or
    too short, when it is unusable (:func:`usable_heading`), or when the same heading stands in
    several places of the report ("Gevolgen voor Nederland en Europa" under every chapter):
    asked on its own, it would not say which one is meant.
    """
    sizes: dict[tuple[str, tuple[str, ...]], int] = {}
    for chunk in chunks:
        for depth in range(1, len(chunk.section) + 1):
            at = (chunk.doc_id, chunk.section[:depth])
            sizes[at] = sizes.get(at, 0) + len(chunk.text)
    places: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for doc_id, path in sizes:
        places.setdefault((doc_id, fold(strip_numbering(path[-1]))), set()).add(path[:-1])
    names = {d: report_names([m.title, m.publisher]) for d, m in documents.items()}
    out: list[Topic] = []
    seen: set[tuple[str, str]] = set()
    for (doc_id, path), size in sizes.items():
        heading = strip_numbering(path[-1])
        key = (doc_id, fold(heading))
        meta = documents.get(doc_id)
        if meta is None or key in seen or size < MIN_SECTION_CHARS or is_back_matter(path):
            continue
        if len(places[key]) > 1 or not usable_heading(heading, names[doc_id]):
            continue
        seen.add(key)
        out.append(Topic(doc_id, heading))
    return out


def spread(items: Sequence[Topic], seed: int = 0) -> list[Topic]:
    """The items in an order that covers the whole list early: the middle, then the quarters,
    and so on (a van der Corput sequence), started at a point ``seed`` moves on. The opening
    sections (often an introduction) come late.

    Example:
        >>> [t.heading for t in spread([Topic("d", str(i)) for i in range(5)])]
        ['2', '1', '3', '0', '4']
    """
    n = len(items)
    offset = (seed * 0.618033988749895) % 1.0
    order: list[int] = []
    k = 0
    while len(order) < n:
        k += 1
        position = int(((_corput(k) + offset) % 1.0) * n)
        for i in (*range(position, n), *range(position)):  # the next one not taken yet
            if i not in order:
                order.append(i)
                break
    return [items[i] for i in order]


def _corput(k: int) -> float:
    """The k-th number of the base-2 van der Corput sequence: 0, .5, .25, .75, .125, …"""
    value, denominator = 0.0, 1.0
    while k:
        denominator *= 2
        k, bit = divmod(k, 2)
        value += bit / denominator
    return value


def interleave(topics_: Sequence[Topic], seed: int = 0) -> Iterator[Topic]:
    """Topics in turns from each report (each spread over its report), reports in id order
    rotated by ``seed``."""
    by_doc: dict[str, list[Topic]] = {}
    for t in topics_:
        by_doc.setdefault(t.doc_id, []).append(t)
    docs = sorted(by_doc)
    if docs:
        docs = docs[seed % len(docs) :] + docs[: seed % len(docs)]
    queues = [spread(by_doc[d], seed) for d in docs]
    for i in range(max(map(len, queues), default=0)):
        yield from (q[i] for q in queues if i < len(q))


def short_name(publisher: str) -> str:
    """What a question may call the report by: its first publisher, without "Instituut";
    "" when that is longer than three words.

    Example:
        >>> short_name("HCSS en Instituut Clingendael"), short_name("Instituut Clingendael")
        ('HCSS', 'Clingendael')
        >>> short_name("The Hague Centre for Strategic Studies")
        ''
    """
    first = re.split(r"\s+(?:en|and|&)\s+|[,;/]", publisher.strip())[0]
    words = first.split()
    while words and fold(words[0]) in ("instituut", "institute", "stichting", "the", "het", "de"):
        words = words[1:]
    return " ".join(words) if 0 < len(words) <= 3 else ""


def question_for(topic: Topic, meta: DocumentMeta, lang: str, names: Collection[str]) -> str:
    """The question asked about ``topic`` in language ``lang``.

    A heading in the interface's language that reads as a subject, and opens with a common
    word (not a name, a question word or a preposition), becomes the subject of the question
    with that word in lower case ("… over gevoelige technologieën?"); a heading that asks a
    question is asked as it stands; any other heading (a statement, one opening with a name
    such as "Europese" or "China", one in another language) is quoted as it stands.

    Args:
        topic: the heading and its report.
        meta: the report's metadata (publisher, language).
        lang: the interface language, "nl" or "en".
        names: words the reports write as names (folded), see :func:`name_words`.

    Example:
        >>> meta = DocumentMeta("h", "Monitor", "h.txt", publisher="HCSS", language="nl")
        >>> question_for(Topic("h", "Gevoelige technologieën"), meta, "nl", set())
        'Wat zegt het HCSS-rapport over gevoelige technologieën?'
        >>> question_for(Topic("h", "Europese weerbaarheid"), meta, "nl", {"europese"})
        'Wat zegt het HCSS-rapport over ‘Europese weerbaarheid’?'
        >>> question_for(Topic("h", "Afschrikking is niet genoeg"), meta, "nl", set())
        'Wat zegt het HCSS-rapport over ‘Afschrikking is niet genoeg’?'
        >>> question_for(Topic("h", "Gaat het pact slagen?"), meta, "nl", set())
        'Gaat het pact slagen?'
        >>> question_for(Topic("h", "Op zoek naar de agenda"), meta, "nl", set())
        'Wat zegt het HCSS-rapport over ‘Op zoek naar de agenda’?'
        >>> question_for(Topic("h", "Gevoelige technologieën"), meta, "en", set())
        'What does the HCSS report say about “Gevoelige technologieën”?'
    """
    t = TEMPLATES[lang] if lang in TEMPLATES else TEMPLATES["en"]
    name = short_name(meta.publisher)
    report = t["report"].format(name=name) if name else t["generic"]
    heading = topic.heading.rstrip("?")
    same_language = not meta.language or meta.language == lang
    first, _, rest = heading.partition(" ")
    if same_language and topic.heading.endswith("?"):
        return topic.heading  # the report asks it itself
    common = fold(first) not in names and fold(first) not in _OPENERS and first[1:2].islower()
    if same_language and common and not _VERB.search(heading):
        subject = f"{first[:1].lower()}{first[1:]} {rest}".strip()
    else:
        subject = t["quote"].format(heading=heading)
    return t["topic"].format(report=report, topic=subject)


_MID_SENTENCE = re.compile(r"(?:(?<=[^\W\d_] )|(?<=[^\W\d_][,;] ))[^\W\d_][\w'’-]*")


def name_words(chunks: Iterable[Chunk]) -> set[str]:
    """The words (folded) the reports write as names: capitalised inside a sentence more often
    than in lower case ("Nederland", "Europese"), unlike common words at a sentence's start.

    Example:
        >>> from ingest.types import Chunk
        >>> text = "De Europese unie en China. Unie is een woord."
        >>> c = Chunk.create("d", text, 0, len(text), (), title="T", ordinal=0)
        >>> sorted(name_words([c]))
        ['china', 'europese']
    """
    lower: Counter[str] = Counter()
    capital: Counter[str] = Counter()
    for chunk in chunks:
        for word in _MID_SENTENCE.findall(chunk.text):
            (capital if word[:1].isupper() else lower)[fold(word)] += 1
    return {w for w, n in capital.items() if n > lower[w]}


def candidate_questions(
    chunks: Sequence[Chunk], documents: Mapping[str, DocumentMeta], lang: str, seed: int = 0
) -> Iterator[tuple[Topic, str]]:
    """Every example question the reports allow, best spread first, with its topic."""
    names = name_words(chunks)
    for topic in interleave(topics(chunks, documents), seed):
        yield topic, question_for(topic, documents[topic.doc_id], lang, names)


def example_questions(assistant: Assistant, lang: str, n: int = 4, seed: int = 0) -> list[str]:
    """``n`` example questions for the empty chat in language ``lang``, spread over the indexed
    reports, each one answered (not refused) from the report it names.

    Deterministic for a given index; another ``seed`` gives another selection. Candidates are
    asked with the offline answerer (never the LLM), at most ``4 * n`` of them, and only until
    ``n`` are answered, so start-up stays cheap (about ``n`` ordinary answers).
    Fewer than ``n`` come back when the index holds too few usable sections.
    """
    chosen: list[str] = []
    asked = 0
    for topic, question in candidate_questions(
        assistant.index.chunks, assistant.index.documents, lang, seed
    ):
        if len(chosen) >= n or asked >= 4 * n:
            break
        asked += 1
        try:
            answer = assistant.ask(question, answerer="extractive")  # no LLM call at start-up
        except AssistantError:
            continue
        if answer.refused or not answer.citations:
            continue
        if question not in chosen and any(
            c.passage.doc_id == topic.doc_id for c in answer.citations
        ):
            chosen.append(question)
    return chosen
