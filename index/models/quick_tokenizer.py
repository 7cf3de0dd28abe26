"""Load a ``tokenizer.json`` quickly: a Unigram vocabulary without building its 250k-piece trie.

`tokenizers` builds the multilingual-e5 Unigram model (250k pieces) in about a second, most of a
cold ``legatus ask``'s budget, to tokenise a handful of short texts. ``load_tokenizer`` reads the
pieces into a dict instead (a third of a second) and tokenises each text with a Unigram model of
only the pieces that occur in it, which `tokenizers` builds in a millisecond.

Why the ids are the same: Unigram's Viterbi search (tokenizers' ``Unigram::encode_optimized``)
only ever looks at the pieces that match a stretch of a pre-tokenised word, in order of length,
and at the vocabulary's lowest score (an unknown character scores ``min_score - 10``). A model of
every piece that is a substring of the text's words, plus the lowest-scoring piece, therefore
finds the same path; its ids are mapped back to the full vocabulary's. Everything else (the
normaliser, the pre-tokeniser, the special tokens, the post-processor, truncation) is the file's
own, run by `tokenizers`. tests/test_query_encoder.py compares the two on the bundled reports'
every passage and on unusual texts.
"""

from __future__ import annotations

import contextlib
import gc
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

TextTokenizer = Callable[[str], list[int]]
"""Text in, token ids out (special tokens added, truncated to the model's length)."""


def load_tokenizer(path: Path, max_length: int) -> TextTokenizer:
    """The tokeniser in ``path`` that truncates to ``max_length`` tokens (special ones included).

    A Unigram vocabulary loads as a ``SubsetUnigram``; any other one through `tokenizers` as it is.

    Raises:
        OSError: The file cannot be read.
        ValueError: It is not JSON.
        Exception: `tokenizers` cannot load it (it raises a bare ``Exception``).
    """
    with _no_garbage_collection():
        config = json.loads(path.read_bytes())
        subset = SubsetUnigram.from_config(config, max_length)
    if subset is not None:
        return subset
    tokenizer = Tokenizer.from_str(json.dumps(config))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length)
    return lambda text: tokenizer.encode(text).ids


class SubsetUnigram:
    """A Unigram ``tokenizer.json`` that builds, per text, a model of the pieces the text uses.

    Calls may come from several threads: each builds its own small `tokenizers` model.

    Example:
        >>> config = json.loads(path.read_bytes())  # doctest: +SKIP
        >>> tokenize = SubsetUnigram.from_config(config, 512)  # doctest: +SKIP
        >>> tokenize("query: Wat is de Strategische Monitor?")  # doctest: +SKIP
        [0, 41, 1294, 12, 6586, 83, 8, 37008, 7560, 49570, 32, 2]
    """

    def __init__(self, config: dict[str, Any], ids: dict[str, int], max_length: int) -> None:
        model = config["model"]
        self._vocab: list[list[Any]] = model["vocab"]
        self._ids = ids
        self._longest = max(map(len, ids))
        self._max_length = max_length
        # Pieces every text's model holds, in these first places: the unknown piece, the lowest
        # score (it sets the unknown score), the special tokens. The file's added tokens and
        # post-processor then keep their ids once renumbered into these places.
        scores = [score for _, score in self._vocab]
        lowest = scores.index(min(scores))
        fixed = [model["unk_id"], lowest, *(ids[t] for t in _special_contents(config))]
        self._fixed = list(dict.fromkeys(fixed))
        place = {old: new for new, old in enumerate(self._fixed)}
        template = _renumbered(config, place)
        template["model"] = {**model, "unk_id": 0, "vocab": "@VOCAB@"}
        template["truncation"] = template["padding"] = None
        self._head, self._tail = json.dumps(template).split('"@VOCAB@"')
        self._words = _word_splitter(Tokenizer.from_str(self._with_pieces(self._fixed)))

    @classmethod
    def from_config(cls, config: dict[str, Any], max_length: int) -> SubsetUnigram | None:
        """The tokeniser for a parsed ``tokenizer.json``; None unless it is a Unigram model
        (without byte fallback) whose special tokens are pieces of its own vocabulary."""
        model = config.get("model") or {}
        if (
            model.get("type") != "Unigram"
            or model.get("byte_fallback")
            or model.get("unk_id") is None
        ):
            return None
        post = config.get("post_processor")
        if post is not None and post.get("type") != "TemplateProcessing":
            return None
        # Later duplicates win, as in tokenizers' own token-to-id map.
        pieces = [piece for piece, _ in model["vocab"]]
        ids = dict(zip(pieces, range(len(pieces)), strict=True))
        added = all(ids.get(t["content"]) == t["id"] for t in config.get("added_tokens") or [])
        specials = ((post or {}).get("special_tokens") or {}).values()
        if not added or any([ids.get(t["id"])] != t["ids"] for t in specials):
            return None
        return cls(config, ids, max_length)

    def __call__(self, text: str) -> list[int]:
        """The text's token ids in the full vocabulary."""
        pieces = self._fixed + sorted(set(self._pieces(self._words(text))) - set(self._fixed))
        tokenizer = Tokenizer.from_str(self._with_pieces(pieces))
        tokenizer.enable_truncation(self._max_length)
        return [pieces[i] for i in tokenizer.encode(text).ids]

    def _pieces(self, words: Iterable[str]) -> Iterable[int]:
        ids, longest = self._ids, self._longest
        for word in words:
            for start in range(len(word)):
                for end in range(start + 1, min(len(word), start + longest) + 1):
                    if (found := ids.get(word[start:end])) is not None:
                        yield found

    def _with_pieces(self, pieces: Sequence[int]) -> str:
        vocab = json.dumps([self._vocab[i] for i in pieces], ensure_ascii=False)
        return f"{self._head}{vocab}{self._tail}"


@contextlib.contextmanager
def _no_garbage_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector: parsing the vocabulary makes a million small objects,
    none of them garbage, and the collections they set off would double the time it takes."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _special_contents(config: dict[str, Any]) -> list[str]:
    added = [t["content"] for t in config.get("added_tokens") or []]
    post = config.get("post_processor") or {}
    return added + [t["id"] for t in (post.get("special_tokens") or {}).values()]


def _renumbered(config: dict[str, Any], place: dict[int, int]) -> dict[str, Any]:
    template = dict(config)
    template["added_tokens"] = [
        {**t, "id": place[t["id"]]} for t in config.get("added_tokens") or []
    ]
    post = config.get("post_processor")
    if post is not None:
        specials = post.get("special_tokens") or {}
        template["post_processor"] = {
            **post,
            "special_tokens": {
                name: {**t, "ids": [place[i] for i in t["ids"]]} for name, t in specials.items()
            },
        }
    return template


def _word_splitter(base: Tokenizer) -> Callable[[str], list[str]]:
    """The words the model sees in a text, and more: a superset is harmless, a gap is not.

    The pipeline splits the text at special tokens before it normalises, and each part gets its
    own leading word marker; pre-tokenising the whole text, and also each part between special
    tokens' texts, covers both.
    """
    normalizer, pre_tokenizer = base.normalizer, base.pre_tokenizer
    specials = [t.content for t in base.get_added_tokens_decoder().values()]

    def words(part: str) -> list[str]:
        normalized = normalizer.normalize_str(part) if normalizer is not None else part
        if pre_tokenizer is None:
            return [normalized]
        return [word for word, _ in pre_tokenizer.pre_tokenize_str(normalized)]

    def split(text: str) -> list[str]:
        parts = [text]
        for special in specials:
            parts = [piece for part in parts for piece in part.split(special)]
        found = words(text)
        if len(parts) > 1:
            found += [word for part in parts for word in words(part)]
        return found

    return split
