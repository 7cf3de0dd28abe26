"""Which language a question is in, and the assistant's fixed phrases in that language."""

from __future__ import annotations

import re

_DUTCH = frozenset(
    "de het een en van is dat die niet op te zijn wat welke waarom hoe wie waar wanneer "
    "volgens over voor met ook bij naar door heeft hebben wordt worden kan kunnen zou moet "
    "deze dit er nog als om uit tot aan hun zij wij ze".split()
)
_ENGLISH = frozenset(
    "the a an and of is that not on to be what which why how who where when according about "
    "for with also at by has have does do did was were can could would should this these "
    "there in from their they it its".split()
)

PHRASES: dict[str, dict[str, str]] = {
    "nl": {
        "refusal": "De rapporten in de index beantwoorden deze vraag niet.",
        "closest": "De passages die er het dichtst bij komen staan hieronder.",
        "quoted": "",
        "empty": "Stel een vraag over de rapporten.",
        "too_long": "De vraag is te lang ({n} tekens; maximaal {limit}). Maak hem korter.",
    },
    "en": {
        "refusal": "The reports in the index do not answer this question.",
        "closest": "The closest passages are listed below.",
        "quoted": "The reports say (quoted in their original language):",
        "empty": "Ask a question about the reports.",
        "too_long": "The question is too long ({n} characters; at most {limit}). Shorten it.",
    },
}


def detect_language(text: str) -> str:
    """``"nl"`` or ``"en"`` by counting function words; Dutch when undecided.

    Example:
        >>> detect_language("Why did the EU fail?"), detect_language("Waarom faalde de EU?")
        ('en', 'nl')
    """
    words = re.findall(r"[a-zà-ÿ']+", text.lower())
    dutch = sum(w in _DUTCH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return "en" if english > dutch else "nl"


def phrase(language: str, key: str, **values: object) -> str:
    return PHRASES.get(language, PHRASES["en"])[key].format(**values)
