"""Encode a few texts with a BERT or XLM-RoBERTa sentence-transformers folder in numpy alone.

A cold ``legatus ask`` embeds one question. Through sentence-transformers that costs seconds
before the first vector (importing torch and transformers, then torch's first forward pass); the
forward pass written out here, over the same weights and the same tokeniser (the file's own,
loaded by ``index.models.quick_tokenizer``), is ready in about half a second and gives the same
vectors (within 1e-5 in float32; tests/test_query_encoder.py).

It covers exactly one kind of folder, the kind ``index.models.e5_convert`` writes: a BERT or
XLM-RoBERTa encoder in ``model.safetensors``, mean pooling over all tokens (prompt included), then
L2 normalisation. ``load_query_encoder`` returns ``None`` for anything else, and the caller uses
sentence-transformers instead.

The weights are memory-mapped: the 250k-row embedding table stays on disk except for the rows a
text uses, and only the encoder layers are read (and widened to float32) when the encoder loads.
"""

from __future__ import annotations

import json
import math
import mmap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.models.quick_tokenizer import TextTokenizer, load_tokenizer

WEIGHTS_FILE = "model.safetensors"
_SAFETENSORS_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "BF16": np.dtype("<u2"),  # widened to float32 by hand
}
_MODULES = ("Transformer", "Pooling", "Normalize")  # class names, in this order
_OTHER_POOLING_MODES = (
    "pooling_mode_cls_token",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)
# The tokeniser classes that are `tokenizer.json` as it is; a model-specific class may rebuild
# the pipeline from its own vocabulary files.
_PLAIN_TOKENIZERS = ("PreTrainedTokenizerFast", "TokenizersBackend")
_Linear = tuple[np.ndarray, np.ndarray]  # weight (out, in), bias (out,); a norm's scale, shift


@dataclass(frozen=True)
class EncoderConfig:
    """What the forward pass needs from the folder's configuration files.

    Example:
        >>> config = read_encoder_config(folder)  # doctest: +SKIP
        >>> config.hidden, config.layers, config.max_seq_length  # doctest: +SKIP
        (384, 12, 512)
    """

    hidden: int
    heads: int
    layers: int
    eps: float
    max_seq_length: int
    position_padding: int | None  # XLM-R's padding id, from which it numbers positions; BERT: None
    prompts: Mapping[str, str]


def read_encoder_config(folder: Path) -> EncoderConfig | None:
    """The configuration, or ``None`` when the folder is not one this module can run exactly."""
    try:
        return _read_config(folder)
    except (OSError, ValueError, KeyError, TypeError):  # missing or malformed: not ours to judge
        return None


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_config(folder: Path) -> EncoderConfig | None:
    modules = _json(folder / "modules.json")
    kinds = tuple(str(m["type"]).rsplit(".", 1)[-1] for m in modules)
    if kinds != _MODULES or modules[0].get("path", "") != "":
        return None
    pooling = _json(folder / str(modules[1]["path"]) / "config.json")
    mean = pooling.get("pooling_mode", "mean") == "mean"
    mean = mean and pooling.get("pooling_mode_mean_tokens", True)
    others = any(pooling.get(mode) for mode in _OTHER_POOLING_MODES)
    if not mean or others or not pooling.get("include_prompt", True):
        return None
    model = _json(folder / "config.json")
    st_config = _json(folder / "sentence_bert_config.json")
    tokenizer_config = _json(folder / "tokenizer_config.json")
    kind = model.get("model_type")
    padding = int(model.get("pad_token_id", 1)) if kind == "xlm-roberta" else None
    offset = 0 if padding is None else padding + 1
    plain = (
        kind in ("bert", "xlm-roberta")
        and model.get("hidden_act") == "gelu"
        and model.get("position_embedding_type", "absolute") == "absolute"
        and not model.get("is_decoder", False)
        and model.get("dtype", model.get("torch_dtype", "float32")) in ("float32", None)
        and not st_config.get("do_lower_case", False)
        and tokenizer_config.get("tokenizer_class") in _PLAIN_TOKENIZERS
        and (folder / "tokenizer.json").is_file()
        and (folder / WEIGHTS_FILE).is_file()
    )
    max_seq_length = int(st_config["max_seq_length"])
    if not plain or not 2 <= max_seq_length <= int(model["max_position_embeddings"]) - offset:
        return None
    prompts: dict[str, str] = {}
    if (folder / "config_sentence_transformers.json").is_file():
        prompts = dict(_json(folder / "config_sentence_transformers.json").get("prompts") or {})
    hidden, heads = int(model["hidden_size"]), int(model["num_attention_heads"])
    if hidden % heads:
        return None
    return EncoderConfig(
        hidden=hidden,
        heads=heads,
        layers=int(model["num_hidden_layers"]),
        eps=float(model["layer_norm_eps"]),
        max_seq_length=max_seq_length,
        position_padding=padding,
        prompts=prompts,
    )


def map_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read-only arrays over a memory map of a ``.safetensors`` file (nothing is read yet).

    The format: a little-endian u64 header length, a JSON header naming each tensor's dtype,
    shape and byte range, then the data. BF16 tensors come back as their raw ``uint16`` bits.

    Raises:
        ValueError: The file is not a safetensors file, or holds a dtype not handled here.
    """
    with path.open("rb") as file:
        data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    (size,) = np.frombuffer(data, dtype="<u8", count=1)
    header = json.loads(bytes(data[8 : 8 + int(size)]))
    start = 8 + int(size)
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] not in _SAFETENSORS_DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}")
        dtype = _SAFETENSORS_DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        count = math.prod(info["shape"])
        if (end - begin) != count * dtype.itemsize or start + end > len(data):
            raise ValueError(f"{path}: tensor {name} has an inconsistent byte range")
        array = np.frombuffer(data, dtype=dtype, count=count, offset=start + begin)
        tensors[name] = array.reshape(info["shape"])
    return tensors


def _float32(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint16:  # bfloat16: the high half of a float32
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(np.float32)


class QueryEncoder:
    """The folder's model as a numpy forward pass: prompt + text in, L2-normalised vector out.

    Load one with ``load_query_encoder``; ``encode`` may be called from several threads at once
    (the weights are read-only, each call works on its own arrays).

    Example:
        >>> encoder = load_query_encoder(converted_folder(cache_dir))  # doctest: +SKIP
        >>> encoder.encode(["Wat besloot de Kamer?"], prompt="query: ").shape  # doctest: +SKIP
        (1, 384)
    """

    def __init__(
        self, config: EncoderConfig, tensors: Mapping[str, np.ndarray], tokenize: TextTokenizer
    ) -> None:
        prefix = _prefix(tensors)
        self.config = config
        self._tokenize = tokenize
        self._words = tensors[f"{prefix}embeddings.word_embeddings.weight"]  # stays mapped

        def weight(name: str) -> np.ndarray:
            return _float32(tensors[prefix + name])

        self._positions = weight("embeddings.position_embeddings.weight")
        self._token_type = weight("embeddings.token_type_embeddings.weight")[0]
        self._embedding_norm = (
            weight("embeddings.LayerNorm.weight"),
            weight("embeddings.LayerNorm.bias"),
        )
        self._layers = [_Layer.read(weight, f"encoder.layer.{i}.") for i in range(config.layers)]
        if self._words.shape[1] != config.hidden:
            raise ValueError("the weights do not match config.json")

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self.config.hidden

    @property
    def prompts(self) -> Mapping[str, str]:
        """The folder's named prompts (``{"query": "query: ", ...}``)."""
        return self.config.prompts

    def encode(self, texts: Sequence[str], prompt: str = "") -> np.ndarray:
        """Vectors of ``prompt + text`` for each text, shape ``(len(texts), dimension)``."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = np.asarray(self._tokenize(prompt + text), dtype=np.int64)
            pooled = self._forward(ids).mean(axis=0)
            vectors[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return vectors

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        """Token states of the last layer for one unpadded sequence of token ids."""
        x = _float32(self._words[ids]) + self._positions[self._position_ids(ids)]
        x = _layer_norm(x + self._token_type, *self._embedding_norm, self.config.eps)
        for layer in self._layers:
            x = self._block(x, layer)
        return x

    def _position_ids(self, ids: np.ndarray) -> np.ndarray:
        padding = self.config.position_padding
        if padding is None:
            return np.arange(len(ids))
        # XLM-R: positions count the tokens that are not the padding token from padding + 1;
        # a padding token (a literal "<pad>" in the text) sits at position ``padding``.
        real = ids != padding
        return np.where(real, np.cumsum(real) + padding, padding)

    def _block(self, x: np.ndarray, layer: _Layer) -> np.ndarray:
        eps, heads = self.config.eps, self.config.heads
        n, size = len(x), self.config.hidden // heads
        # One product for queries, keys and values, then (3, heads, n, size), contiguous per head
        # so that each head's products go to BLAS.
        qkv = _apply(x, layer.qkv).reshape(n, 3, heads, size).transpose(1, 2, 0, 3)
        q, k, v = np.ascontiguousarray(qkv)
        scores = q @ k.transpose(0, 2, 1)
        scores *= np.float32(1.0 / math.sqrt(size))
        scores -= scores.max(axis=-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(axis=-1, keepdims=True)
        context = (scores @ v).transpose(1, 0, 2).reshape(n, heads * size)
        x = _layer_norm(_apply(context, layer.attention_out) + x, *layer.attention_norm, eps)
        inner = _gelu(_apply(x, layer.intermediate))
        return _layer_norm(_apply(inner, layer.output) + x, *layer.output_norm, eps)


@dataclass(frozen=True)
class _Layer:
    """One encoder layer's weights, float32."""

    qkv: _Linear  # query, key and value projections stacked: (3 * hidden, hidden)
    attention_out: _Linear
    attention_norm: _Linear
    intermediate: _Linear
    output: _Linear
    output_norm: _Linear

    @classmethod
    def read(cls, weight: Callable[[str], np.ndarray], prefix: str) -> _Layer:
        def linear(name: str) -> _Linear:
            return weight(f"{prefix}{name}.weight"), weight(f"{prefix}{name}.bias")

        parts = [linear(f"attention.self.{p}") for p in ("query", "key", "value")]
        return cls(
            qkv=(np.concatenate([w for w, _ in parts]), np.concatenate([b for _, b in parts])),
            attention_out=linear("attention.output.dense"),
            attention_norm=linear("attention.output.LayerNorm"),
            intermediate=linear("intermediate.dense"),
            output=linear("output.dense"),
            output_norm=linear("output.LayerNorm"),
        )


def load_query_encoder(folder: Path) -> QueryEncoder | None:
    """The numpy encoder for a sentence-transformers folder, or ``None`` if it does not apply.

    It applies to a BERT or XLM-RoBERTa model with safetensors weights, a plain ``tokenizer.json``,
    mean pooling over every token and normalisation, computed in float32; ``None`` means: use
    sentence-transformers, which also reports what is wrong with a broken folder.
    """
    config = read_encoder_config(folder)
    if config is None:
        return None
    try:
        tokenize = load_tokenizer(folder / "tokenizer.json", config.max_seq_length)
        return QueryEncoder(config, map_safetensors(folder / WEIGHTS_FILE), tokenize)
    except Exception:  # noqa: BLE001 - tokenizers raises a bare Exception on a file it rejects
        return None


def _prefix(tensors: Mapping[str, np.ndarray]) -> str:
    """``bert.``/``roberta.``/"" : what a task head's checkpoint puts before the encoder's names."""
    for name in tensors:
        if name.endswith("embeddings.word_embeddings.weight"):
            return name.removesuffix("embeddings.word_embeddings.weight")
    raise KeyError("no embeddings.word_embeddings.weight in the weights")


def _apply(x: np.ndarray, linear: _Linear) -> np.ndarray:
    return x @ linear[0].T + linear[1]


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = np.square(centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + np.float32(eps)) * weight + bias


# Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: in float32 as close to erf as torch's own GELU
# (both within 1.3e-6 of the exact GELU, measured over [-10, 10]).
_ERF_P = np.float32(0.3275911)
_ERF_A = [
    np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
]


def _erf(x: np.ndarray) -> np.ndarray:
    a = np.abs(x)
    t = 1 / (1 + _ERF_P * a)
    poly = _ERF_A[0] * t
    for coefficient in _ERF_A[1:]:
        poly += coefficient
        poly *= t
    np.negative(np.square(a, out=a), out=a)
    return np.copysign(1 - poly * np.exp(a, out=a), x)


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU of BERT's ``hidden_act: gelu``."""
    return np.float32(0.5) * x * (1 + _erf(x * np.float32(1 / math.sqrt(2))))
