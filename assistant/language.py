"""Which language a question is in, and the assistant's fixed phrases in that language."""

from __future__ import annotations

from index.lexical import guess_language

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
    """``"nl"`` or ``"en"`` by the function words only one of them has; Dutch when undecided.

    Example:
        >>> detect_language("Why did the EU fail?"), detect_language("Waarom faalde de EU?")
        ('en', 'nl')
    """
    return guess_language(text) or "nl"


def phrase(language: str, key: str, **values: object) -> str:
    return PHRASES.get(language, PHRASES["en"])[key].format(**values)
