"""What a chosen sentence brings along so that the quote can be read on its own.

Report prose is written to be read in order: a sentence announces what follows ("waarbij twee
factoren een cruciale rol spelen.", "Het rapport beveelt verschillende doelstellingen aan."), an
enumeration runs "Ten eerste … Ten tweede …", a claim is followed by its explanation, a sentence
that points back ("Dit scenario …") needs the one before it, and a page break can cut a
sentence in two. Each function here takes the candidate pool and the chosen units (indices into
the pool) and returns the chosen units with what they bring, the original ones first.

Example:
    >>> from assistant.sentences import Candidate
    >>> pool = [Candidate(0, 0, "Twee factoren spelen een rol."), Candidate(0, 1, "Ten eerste A."),
    ...         Candidate(0, 2, "Dat komt door B."), Candidate(0, 3, "Ten tweede C.")]
    >>> with_enumeration(pool, [0])
    [0, 1, 3]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.evidence import is_ordinal, refers_back
from assistant.sentences import Candidate, announced_count
from ingest.units import is_list_item

_FINISHED = re.compile(r"[.!?…”\"’')\]\d⁰-⁹]$")
# A sentence announcing an unnumbered set of things it does not name itself.
_SEVERAL = re.compile(
    r"(?i)\b(verschillende|diverse|meerdere|enkele|een aantal|een reeks|several|various|"
    r"a number of|a series of|a range of)\s+(?:\w+\s+)?\w+(?:en|s|ies)\b"
)
_FIRST = re.compile(
    r"(?i)^(ten eerste|allereerst|in de eerste plaats|(?:de|het) eerste|first(?:ly)?|the first)\b"
)
ENUMERATION_REACH = 12  # units after an announcing sentence searched for its items
_SEVERAL_WORDS = 15  # longer, it is a sentence that uses "verschillende" in passing
SEVERAL_UNITS = 4  # units an unnumbered announcement brings when its items are not marked
_ORDINALS = 4  # most later items of an enumeration an enumerated sentence brings


def finished(text: str) -> bool:
    """The unit ends a sentence (not cut by a page break or a caption)."""
    return bool(_FINISHED.search(text.rstrip("*_ ")))


def _same_passage(pool: Sequence[Candidate], i: int, j: int) -> bool:
    return 0 <= j < len(pool) and pool[j].passage == pool[i].passage


def _add(out: list[int], units: Sequence[int]) -> None:
    out.extend(u for u in units if u not in out)


def with_unfinished(pool: Sequence[Candidate], chosen: Sequence[int]) -> list[int]:
    """A unit that does not finish, or that introduces what follows (": "), brings the next
    unit of its passage."""
    out = list(chosen)
    for i in chosen:
        text = pool[i].text.rstrip("*_ ")
        if (
            _same_passage(pool, i, i + 1)
            and not is_list_item(text)
            and (text.endswith(":") or not finished(text))
        ):
            _add(out, [i + 1])
    return out


def with_antecedents(pool: Sequence[Candidate], chosen: Sequence[int]) -> list[int]:
    """A sentence that points back ("Dit scenario …", "Hij …") brings the sentence before it
    in its paragraph, so the quote says what it is about."""
    out = list(chosen)
    for i in chosen:
        j = i - 1
        if (
            refers_back(pool[i].text)
            and _same_passage(pool, i, j)
            and pool[j].paragraph == pool[i].paragraph
        ):
            _add(out, [j])
    return out


def _sentence_end(pool: Sequence[Candidate], i: int) -> int:
    """The last unit of the sentence that unit ``i`` starts: a sentence cut by a page break
    goes on in the next unit, even when that unit stands in the next paragraph."""
    while not finished(pool[i].text) and _same_passage(pool, i, i + 1):
        i += 1
    return i


def with_continuation(pool: Sequence[Candidate], chosen: Sequence[int], best: int) -> list[int]:
    """The best sentence brings the next one of its paragraph: a claim is usually followed by
    its explanation ("Duitsland bleef relatief gespaard … Destijds bestond de Chinese export
    uit …"). A sentence cut by a page break counts as one."""
    out = list(chosen)
    end = _sentence_end(pool, best)
    _add(out, range(best + 1, end + 1))
    nxt = end + 1
    if _same_passage(pool, best, nxt) and pool[nxt].paragraph == pool[end].paragraph:
        _add(out, range(nxt, _sentence_end(pool, nxt) + 1))
    return out


def _announced(text: str) -> int | None:
    """How many things a unit announces: a count, -1 for an unnumbered set, None for none."""
    if text.rstrip("* ").endswith((":", "...", "…")):
        return -1
    count = announced_count(text)
    if count:
        return count
    short = len(text.split()) <= _SEVERAL_WORDS and "," not in text
    return -1 if short and _SEVERAL.search(text) else None


def _leading_items(pool: Sequence[Candidate], ahead: Sequence[int], *, numbered: bool) -> list[int]:
    """The list items that ``ahead`` opens with (bulleted ones only unless ``numbered``)."""
    items = []
    for j in ahead:
        text = pool[j].text
        if not is_list_item(text) or (not numbered and text.lstrip()[:1].isdigit()):
            break
        items.append(j)
    return items


def with_enumeration(
    pool: Sequence[Candidate], chosen: Sequence[int], reach: int = ENUMERATION_REACH
) -> list[int]:
    """An announcing sentence brings the items that follow it in its passage; an enumerated
    sentence ("Ten eerste …") brings the rest of its enumeration; the last sentence of a
    paragraph brings the bulleted items right under it, which spell it out.

    Items are recognised by their marks: list items after "… de volgende instrumenten:", and
    ordinal openings ("Ten eerste", "Second") after a count ("twee factoren"), the elaborating
    sentences between them left out. Where the items carry no marks, an announced count
    brings that many sentences, an unnumbered set ("verschillende doelstellingen") a few.
    """
    out = list(chosen)
    for i in chosen:
        count = _announced(pool[i].text)
        ahead = [j for j in range(i + 1, i + 1 + reach) if _same_passage(pool, i, j)]
        if count is None and is_ordinal(pool[i].text):
            later = []
            for j in ahead:
                if _FIRST.match(pool[j].text.strip("*- ")):
                    break  # "Ten eerste" again: another enumeration begins
                if is_ordinal(pool[j].text):
                    later.append(j)
            _add(out, later[:_ORDINALS])
            continue
        if count is None:
            # a paragraph's last sentence followed by bullets: they spell it out (a numbered
            # item after a paragraph is often the next heading)
            bullets = _leading_items(pool, ahead, numbered=False)
            if bullets and pool[bullets[0]].paragraph != pool[i].paragraph:
                _add(out, bullets)
            continue
        if not ahead:
            continue
        listed = _leading_items(pool, ahead, numbered=True)
        ordinals = [j for j in ahead if is_ordinal(pool[j].text)]
        if listed:
            _add(out, listed)
        elif ordinals and ordinals[0] == ahead[0]:
            _add(out, ordinals[: count if count > 0 else len(ordinals)])
        else:
            _add(out, ahead[: count if count > 0 else SEVERAL_UNITS])
    return out
