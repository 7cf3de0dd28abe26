"""Which language a question is in, and the assistant's fixed phrases in that language."""

from __future__ import annotations

from ingest.language import guess_language

PHRASES: dict[str, dict[str, str]] = {
    "nl": {
        "refusal": "De rapporten in de index beantwoorden deze vraag niet.",
        "closest": "De passages die er het dichtst bij komen staan bij de bronnen.",
        "quoted": "",
        "no_detail": "Ze noemen het onderwerp wel, maar geven {what} niet.",
        "no_judgement": "Ze maken die afweging niet zelf.",
        "they_say": "Wat ze er wel over zeggen:",
        "no_topic": "Ze spreken niet over {what}.",
        "no_topic_here": "Ze noemen {what} wel, maar niet in de passages over deze vraag.",
        "no_topic_part": "Ze spreken niet over {what} in samenhang met de rest van de vraag.",
        "they_say_part": "Wat ze over de rest van het onderwerp zeggen:",
        "topic_gap": "De geciteerde passages noemen {what} niet: ze beantwoorden de vraag "
        "hooguit ten dele.",
        "filtered": "De rapporten binnen de gekozen filter beantwoorden deze vraag niet; "
        "buiten de filter doet {titles} dat wel. Verwijder of verruim de filter om dat "
        "antwoord te zien.",
    },
    "en": {
        "refusal": "The reports in the index do not answer this question.",
        "closest": "The closest passages are listed with the sources.",
        "quoted": "The reports say (quoted in their original language):",
        "no_detail": "They mention the subject, but do not give {what}.",
        "no_judgement": "They do not make that judgement themselves.",
        "they_say": "What they do say about it (quoted in the original language):",
        "no_topic": "They do not speak of {what}.",
        "no_topic_here": "They mention {what}, but not in the passages on this question.",
        "no_topic_part": "They do not speak of {what} in connection with the rest of the question.",
        "they_say_part": "What they say about the rest of the subject (quoted in the original "
        "language):",
        "topic_gap": "The quoted passages do not mention {what}: they answer the question "
        "in part at best.",
        "filtered": "The reports within the chosen filter do not answer this question; "
        "outside it, {titles} does. Remove or widen the filter to see that answer.",
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


_DETAILS = {
    "nl": {"money": "het bedrag", "percent": "het percentage", "rate": "die cijfers",
           "count": "het aantal", "year": "het jaar", "date": "de datum",
           "person": "de naam van de persoon", "organisation": "de naam van de organisatie",
           "place": "de plaats of het land"},
    "en": {"money": "the amount", "percent": "the percentage", "rate": "those figures",
           "count": "the number", "year": "the year", "date": "the date",
           "person": "the person's name", "organisation": "the organisation's name",
           "place": "the place or country"},
}  # fmt: skip


def detail_name(language: str, kind: str) -> str:
    """How a refusal names the detail the reports do not give ("het bedrag", "the date")."""
    names = _DETAILS.get(language, _DETAILS["en"])
    return names.get(kind, names["count"])
