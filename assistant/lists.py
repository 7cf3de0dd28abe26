"""List questions read the structure of the retrieved section; judgements need the report's own.

"Welke drie scenario's schetst Clingendael?" is answered by the items the report lays out: the
labelled cells of a table ("Scenario 1: De zure appel …"), a run of bullets, bold lead terms,
"ten eerste … ten tweede …", or the sub-sections of a section. :func:`find_list` finds those
runs among the candidate sentences and picks the one that fits the question (the number it
asks for, the noun it names, and how well the items match it), so the answer can state the
items first and quote them after.

Example:
    >>> noun_stem("scenario's"), noun_stem("aanbevelingen"), noun_stem("worlds")
    ('scenario', 'aanbeveling', 'wereld')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.evidence import bold_lead, is_biography, is_matter, is_ordinal, labelled_item
from assistant.question import JUDGEMENTS, QuestionAnalysis
from assistant.sentences import Candidate
from assistant.types import DraftSentence, Passage
from index.terms import fold
from ingest.units import is_list_item

# English list nouns a Dutch report writes in Dutch (singular stems).
_NOUNS_EN_NL = {
    "world": "wereld", "option": "optie", "recommendation": "aanbeveling", "step": "stap",
    "pillar": "pijler", "theme": "thema", "question": "vraag", "lesson": "les",
    "challenge": "uitdaging", "obstacle": "hindernis", "priority": "prioriteit",
    "method": "methode", "country": "land", "dilemma": "dilemma", "risk": "risico",
    "element": "element", "area": "gebied", "domain": "domein", "proposal": "voorstel",
    "programme": "programma", "program": "programma", "study": "studie", "trend": "trend",
    "measure": "maatregel", "route": "route", "reason": "reden", "perspective": "perspectief",
    "cluster": "cluster", "phase": "fase", "position": "positie",
}  # fmt: skip
_COUNT_NAMES = {
    "nl": "twee drie vier vijf zes zeven acht negen tien elf twaalf".split(),
    "en": "two three four five six seven eight nine ten eleven twelve".split(),
}
MAX_ITEMS = 12
RELEVANCE_MARGIN = 0.08  # a list's best item may score this much below the best sentence


def noun_stem(noun: str) -> str:
    """The singular stem of a plural list noun, in the reports' Dutch where it differs."""
    low = fold(noun).replace("’", "'")
    for suffix, repl in (("'s", ""), ("ies", "y"), ("ingen", "ing"), ("en", ""), ("s", "")):
        if low.endswith(suffix) and len(low) - len(suffix) >= 3:
            low = low[: len(low) - len(suffix)] + repl
            break
    return _NOUNS_EN_NL.get(low, low)


@dataclass(frozen=True)
class FoundList:
    """The items of a list in the passages: pool indices of the units that carry them (in
    reading order), the label of each, and the sentence that announces them, if any."""

    units: tuple[int, ...]
    labels: tuple[str, ...]
    pool: tuple[Candidate, ...]

    def lead(self, question: QuestionAnalysis, passages: Sequence[Passage]) -> DraftSentence:
        """The answer's opening: how many items, and their names ("Drie scenario's: De zure
        appel; Koorddans; De linkerwang."), citing the passages that hold them."""
        names = _COUNT_NAMES["en" if question.language == "en" else "nl"]
        n = len(self.units)
        count = names[n - 2] if 2 <= n <= 12 else str(n)
        noun = question.list_noun or ("items" if question.language == "en" else "punten")
        sources = tuple(dict.fromkeys(passages[self.pool[i].passage].chunk_id for i in self.units))
        names_ = f" {'; '.join(self.labels)}." if self.labels else ""
        return DraftSentence(f"{count.capitalize()} {noun}:{names_}", sources)


def without_matter(pool: list[Candidate], passages: Sequence[Passage]) -> list[Candidate]:
    """The candidates minus front and back matter (colophon, contents, biographies,
    bibliography), which never answer a question about the subject of a report."""
    return [
        c
        for c in pool
        if not is_matter(passages[c.passage].section_path) and not is_biography(c.text)
    ]


def makes_judgement(question: QuestionAnalysis, texts: Sequence[str]) -> bool:
    """The passages make the judgement the question asks for ("meest waarschijnlijk")."""
    variants = JUDGEMENTS.get(question.judgement, (question.judgement,))
    stem = noun_stem(question.list_noun) if question.list_noun else ""
    return any(any(v in fold(t) for v in variants) and (not stem or stem in fold(t)) for t in texts)


def _short_name(rest: str) -> str:
    """The name at the start of a labelled cell: the words up to the next capitalised one
    ("De zure appel Europa wil …" → "De zure appel"); "" when none ends within five words."""
    words = rest.split()
    for end in range(1, min(len(words), 6)):
        if words[end][:1].isupper():
            return " ".join(words[:end]).strip(":;,.")
    return ""


def _runs(pool: list[Candidate], passages: Sequence[Passage]) -> list[tuple[list[int], list[str]]]:
    """Every run of list items among the candidates: (units, labels)."""
    runs: list[tuple[list[int], list[str]]] = []
    labelled: dict[tuple[str, str], dict[str, tuple[int, str]]] = {}
    for i, c in enumerate(pool):
        found = labelled_item(c.text)
        if found:
            word, number, rest = found
            label = _short_name(rest) or f"{word} {number}"
            key = (passages[c.passage].doc_id, word.lower())
            labelled.setdefault(key, {}).setdefault(number, (i, label))
    for items in labelled.values():
        if len(items) >= 2:
            ordered = sorted(items.values())
            runs.append(([i for i, _ in ordered], [label for _, label in ordered]))
    runs.extend(_item_runs(pool, is_list_item, lambda t: bold_lead(t.lstrip("-•▪●◦–▶ "))))
    runs.extend(_item_runs(pool, lambda t: bool(bold_lead(t)), bold_lead))
    ordinals: dict[int, list[int]] = {}
    for i, c in enumerate(pool):  # "Ten eerste … Ten tweede …": other sentences between them
        if is_ordinal(c.text):
            ordinals.setdefault(c.passage, []).append(i)
    runs.extend((units, [""] * len(units)) for units in ordinals.values() if len(units) >= 2)
    runs.extend(_sections(pool, passages))
    return runs


def _item_runs(
    pool: list[Candidate], test: Callable[[str], bool], label: Callable[[str], str]
) -> list[tuple[list[int], list[str]]]:
    """Runs of at least two consecutive units of one passage that pass ``test``."""
    runs: list[tuple[list[int], list[str]]] = []
    run: list[int] = []
    for i, c in enumerate(pool):
        if test(c.text) and (not run or (pool[run[-1]].passage == c.passage and run[-1] == i - 1)):
            run.append(i)
            continue
        if len(run) >= 2:
            runs.append((run, [label(pool[j].text) for j in run]))
        run = [i] if test(c.text) else []
    if len(run) >= 2:
        runs.append((run, [label(pool[j].text) for j in run]))
    return runs


def _sections(
    pool: list[Candidate], passages: Sequence[Passage]
) -> list[tuple[list[int], list[str]]]:
    """Sibling sub-sections among the passages: the first unit of each child section of one
    parent, labelled by the child's heading."""
    children: dict[tuple[str, tuple[str, ...]], dict[str, int]] = {}
    for i, c in enumerate(pool):
        path = passages[c.passage].section_path
        if len(path) >= 2:
            parent = (passages[c.passage].doc_id, path[:-1])
            children.setdefault(parent, {}).setdefault(path[-1], i)
    return [(list(kids.values()), list(kids)) for kids in children.values() if len(kids) >= 2]


def _mentions_noun(stem: str, pool: list[Candidate], units: Sequence[int],
                   passages: Sequence[Passage]) -> bool:  # fmt: skip
    """The list's own words name the question's noun: its labels' passages' headings, the
    sentence before its first item, or the items."""
    first = pool[units[0]]
    texts = [" ".join(passages[first.passage].section_path)]
    if units[0] > 0:
        texts.append(pool[units[0] - 1].text)
    texts += [pool[i].text for i in units]
    return any(stem in fold(t) for t in texts)


def _names_category(label: str, noun: str) -> bool:
    """An item label that ends in the question's own plural noun names the kind of item."""
    return bool(label) and fold(label).rstrip(" .:").endswith(fold(noun))


def find_list(
    question: QuestionAnalysis,
    pool: list[Candidate],
    score: np.ndarray,
    passages: Sequence[Passage],
) -> FoundList | None:
    """The run of items that answers a list question, or None when none fits.

    A run fits when it has as many items as the question asks for (any number of at least two
    when it names none, but then the run must name the question's noun) and its best item
    scores within ``RELEVANCE_MARGIN`` of the best sentence. Of the fitting runs the best
    scoring wins."""
    if not pool:
        return None
    stem = noun_stem(question.list_noun) if question.list_noun else ""
    top = float(score.max())
    best: tuple[float, list[int], list[str]] | None = None
    for units, labels in _runs(pool, passages):
        if question.count is not None and len(units) != question.count:
            continue
        if question.list_noun and any(_names_category(x, question.list_noun) for x in labels):
            continue  # "2.1. Gevoelige technologieën" heads the technologies, is not one
        named = bool(stem) and _mentions_noun(stem, pool, units, passages)
        if question.count is None and not named:
            continue
        relevance = float(max(score[i] for i in units))
        if relevance < top - RELEVANCE_MARGIN:
            continue
        value = relevance + (0.03 if named else 0.0) + (0.02 if all(labels) else 0.0)
        if best is None or value > best[0]:
            best = (value, units[:MAX_ITEMS], labels[:MAX_ITEMS])
    if best is None:
        return None
    _, units, labels = best
    if not all(labels):  # items without short names: the lead counts them, the quotes name them
        labels = []
    return FoundList(tuple(units), tuple(labels), tuple(pool))
