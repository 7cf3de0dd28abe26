"""The numpy forward pass and its quick tokeniser against sentence-transformers and `tokenizers`
themselves, and the Embedder's choice between the two paths."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import pytest
from tokenizers import Tokenizer

from index.embedding import FEW_PASSAGES, Embedder
from index.models.e5_convert import converted_folder
from index.models.query_encoder import QueryEncoder, load_query_encoder
from index.models.quick_tokenizer import SubsetUnigram, load_tokenizer
from index.store import DENSE_FILE
from ingest import chunk

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
QUESTION_SETS = ROOT / "eval" / "questions"


def _questions(name: str) -> list[str]:
    lines = (QUESTION_SETS / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


# ~50 real questions, Dutch and English, then texts near and past the 512-token limit.
QUESTIONS = _questions("dev.jsonl") + _questions("holdout.jsonl")[:10]
LONG = [
    " ".join(QUESTIONS[:12]),  # about 300 tokens
    " ".join(QUESTIONS),  # far past 512: truncated
    "Strategische autonomie " * 170,  # just past 512
]
ODD = [
    "",
    " ",
    "  leading spaces and   runs   of spaces  ",
    "tabs\tand\nnewlines\r\nand\fform feeds",
    "cafe\u0301 decomposed e\u0301e\u0301n, café naïve coöperatie",
    "ligatures ﬁ ﬂ, fractions ½ ¼, superscripts m² CO₂, fullwidth Ｅｕｒｏｐａ",
    "non\u00a0breaking\u202fspaces and zero\u200bwidth\u200dsigns\ufeff",
    "emoji 🇳🇱 🇪🇺 👍🏽 ❤️ 👨‍👩‍👧 ☕ and rare 𒀀 ꙮ \U000e0001",
    "control\x01chars\x7fremoved\u2028line\u2029para",
    "Ελληνικά, русский, 中文, العربية, हिन्दी",
    "special tokens in text: <s> a</s>b <pad> <unk><mask> c <mask>d",
]


@pytest.fixture(scope="session")
def sentence_model(embedder: Embedder):  # type: ignore[no-untyped-def]
    """The packaged model through sentence-transformers: the reference."""
    return embedder._loaded()


@pytest.fixture(scope="session")
def encoder(embedder: Embedder) -> QueryEncoder:
    fast = embedder._query_encoder()
    assert fast is not None, "the converted e5 folder must run in numpy"
    return fast


@pytest.fixture(scope="session")
def model_folder(embedding_settings) -> Path:  # type: ignore[no-untyped-def]
    """The converted e5 folder in the test model cache."""
    return converted_folder(embedding_settings.cache_dir)


@pytest.fixture(scope="session")
def passages(bundled_documents) -> list[str]:  # type: ignore[no-untyped-def]
    """Every passage of the bundled reports."""
    return [c.text for doc in bundled_documents.values() for c in chunk(doc)]


def _max_diff(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape and a.dtype == b.dtype == np.float32
    return float(np.abs(a - b).max())


# --- vectors -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def question_vectors(  # type: ignore[no-untyped-def]
    embedder: Embedder, encoder: QueryEncoder, sentence_model
) -> tuple[np.ndarray, np.ndarray]:
    """Every dev question (and two overlong texts) embedded both ways: (ours: the numpy pass,
    which ``encoder`` asserts applies; reference)."""
    texts = QUESTIONS + LONG
    ours = embedder.encode_queries(texts)
    reference = sentence_model.encode(
        texts, prompt_name="query", normalize_embeddings=True, convert_to_numpy=True
    )
    return ours, np.ascontiguousarray(reference, dtype=np.float32)


def test_question_vectors_match_sentence_transformers(
    question_vectors: tuple[np.ndarray, np.ndarray], sentence_model
) -> None:  # type: ignore[no-untyped-def]
    assert len(QUESTIONS) >= 50
    assert len(sentence_model.tokenizer(f"query: {LONG[1]}")["input_ids"]) > 512  # truncated
    ours, reference = question_vectors
    assert _max_diff(ours, reference) <= 1e-5


def test_passage_vectors_match_sentence_transformers(
    encoder: QueryEncoder, sentence_model, passages: list[str]
) -> None:  # type: ignore[no-untyped-def]
    by_length = sorted(passages, key=len)
    texts = by_length[:: max(1, len(by_length) // 12)] + [by_length[-1] * 3] + ODD
    ours = encoder.encode(texts, encoder.prompts["passage"])
    reference = sentence_model.encode(
        texts, prompt_name="passage", normalize_embeddings=True, convert_to_numpy=True
    )
    assert _max_diff(ours, reference) <= 1e-5


def test_faiss_top_10_over_the_bundled_index_is_the_same(
    question_vectors: tuple[np.ndarray, np.ndarray], bundled_index_path: Path
) -> None:
    index = faiss.read_index(str(bundled_index_path / DENSE_FILE))
    ours, reference = question_vectors
    _, our_ids = index.search(ours, 10)
    _, reference_ids = index.search(reference, 10)
    assert (our_ids >= 0).all() and np.array_equal(our_ids, reference_ids)


# --- the tokeniser -------------------------------------------------------------------------------


def test_quick_tokeniser_gives_the_ids_of_tokenizers(
    passages: list[str], model_folder: Path, encoder: QueryEncoder
) -> None:
    path = model_folder / "tokenizer.json"
    quick = load_tokenizer(path, 512)
    assert isinstance(quick, SubsetUnigram)
    full = Tokenizer.from_file(str(path))
    full.enable_truncation(512)
    texts = [
        f"{prompt}{t}" for t in passages + QUESTIONS + LONG + ODD for prompt in ("query: ", "")
    ]
    differ = [t for t in texts if quick(t) != full.encode(t).ids]
    assert not differ, f"{len(differ)} of {len(texts)} differ, e.g. {differ[:2]!r}"


# --- other BERT and XLM-RoBERTa folders -----------------------------------------------------------


def _random_model_folder(kind: str, source: Path, folder: Path) -> Path:
    """A small randomly initialised model with the e5 tokeniser, as a sentence-transformers folder.

    XLM-RoBERTa is saved with its masked-LM head, so its weights carry the ``roberta.`` prefix.
    """
    import torch
    from transformers import BertConfig, BertModel, XLMRobertaConfig, XLMRobertaForMaskedLM

    torch.manual_seed(0)
    sizes: dict[str, Any] = {"vocab_size": 250037, "hidden_size": 64, "num_hidden_layers": 2}
    sizes |= {"num_attention_heads": 4, "intermediate_size": 96, "hidden_act": "gelu"}
    model: torch.nn.Module
    if kind == "bert":
        model = BertModel(BertConfig(**sizes, max_position_embeddings=512, layer_norm_eps=1e-7))
    else:
        config = XLMRobertaConfig(
            **sizes, max_position_embeddings=514, pad_token_id=1, type_vocab_size=1
        )
        model = XLMRobertaForMaskedLM(config)
    with torch.no_grad():  # every weight random, norms included, so that each one matters
        for name, parameter in model.named_parameters():
            parameter.normal_(1.0 if "LayerNorm.weight" in name else 0.0, 0.2)
    model.save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        os.link(source / name, folder / name)
    modules = ["Transformer", "Pooling", "Normalize"]
    paths = ["", "1_Pooling", "2_Normalize"]
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": i, "name": str(i), "path": p, "type": f"sentence_transformers.models.{m}"}
                for i, (p, m) in enumerate(zip(paths, modules, strict=True))
            ]
        )
    )
    (folder / "sentence_bert_config.json").write_text('{"max_seq_length": 512}')
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 64, "pooling_mode_mean_tokens": true}'
    )
    (folder / "2_Normalize").mkdir()
    return folder


@pytest.mark.parametrize("kind", ["bert", "xlm-roberta"])
def test_other_models_match_sentence_transformers(
    kind: str, model_folder: Path, tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    folder = _random_model_folder(kind, model_folder, tmp_path)
    ours = load_query_encoder(folder)
    assert ours is not None and ours.dimension == 64
    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    texts = [*QUESTIONS[:8], LONG[1], "met <pad> in de tekst", ""]
    expected = reference.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert _max_diff(ours.encode(texts), expected) <= 1e-5


def _edited_copy(source: Path, folder: Path, file: str, edit: Callable[[dict], object]) -> Path:
    shutil.copytree(source, folder, copy_function=os.link)  # hard links: no 240 MB copy
    path = folder / file
    value = json.loads(path.read_text())
    edit(value)
    path.unlink()  # replace the link, never write through it into the cache
    path.write_text(json.dumps(value))
    return folder


@pytest.mark.parametrize(
    ("file", "edit"),
    [
        ("1_Pooling/config.json", lambda c: c.update(pooling_mode_cls_token=True)),
        ("1_Pooling/config.json", lambda c: c.update(include_prompt=False)),
        ("config.json", lambda c: c.update(model_type="roberta")),
        ("config.json", lambda c: c.update(hidden_act="gelu_new")),
        ("config.json", lambda c: c.update(dtype="float16")),
        ("sentence_bert_config.json", lambda c: c.update(do_lower_case=True)),
        ("tokenizer_config.json", lambda c: c.update(tokenizer_class="XLMRobertaTokenizer")),
        ("modules.json", lambda c: c.insert(2, {**c[1], "type": "models.Dense", "path": "2"})),
    ],
)
def test_folders_it_cannot_run_exactly_are_left_to_sentence_transformers(
    file: str, edit: Callable[[dict], object], tmp_path: Path, model_folder: Path
) -> None:
    assert load_query_encoder(_edited_copy(model_folder, tmp_path / "m", file, edit)) is None


def test_such_a_folder_still_embeds_through_sentence_transformers(
    embedding_settings, model_folder: Path, embedder: Embedder, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    def cls_pooling(config: dict) -> None:
        config.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)

    folder = _edited_copy(model_folder, tmp_path / "m", "1_Pooling/config.json", cls_pooling)
    other = Embedder(embedding_settings.model_copy(update={"model": str(folder)}))
    question = ["Wat is de Strategische Monitor?"]
    vector = other.encode_queries(question)
    assert other._query_encoder() is None and other._model is not None
    assert (
        vector.shape == (1, 384) and float(vector[0] @ embedder.encode_queries(question)[0]) < 0.99
    )


# --- the Embedder --------------------------------------------------------------------------------


def test_a_cold_question_never_loads_torch(embedding_settings) -> None:  # type: ignore[no-untyped-def]
    script = (
        "import sys\n"
        "from index.embedding import Embedder\n"
        "from index.settings import EmbeddingSettings\n"
        f"embedder = Embedder(EmbeddingSettings(cache_dir={str(embedding_settings.cache_dir)!r}))\n"
        "embedder.warm_up()\n"
        "q = embedder.encode_queries(['Wat is de Strategische Monitor?'])\n"
        "p = embedder.encode_passages(['Eén alinea.', 'Nog een.'])\n"
        "print(q.shape, p.shape, embedder.dimension, embedder.max_seq_length)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers')"
        " if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["(1, 384) (2, 384) 384 512", "[]"]
    assert done.stderr == ""


def test_many_passages_go_through_sentence_transformers(embedding_settings) -> None:  # type: ignore[no-untyped-def]
    embedder = Embedder(embedding_settings)
    texts = [f"Alinea {i}: de Kamer stemde in met plan {i}." for i in range(FEW_PASSAGES + 1)]
    few = embedder.encode_passages(texts[:FEW_PASSAGES])
    assert embedder._model is None  # what answering asks for: the numpy pass
    many = embedder.encode_passages(texts)
    assert embedder._model is not None  # an indexing batch: sentence-transformers
    assert _max_diff(few, many[:FEW_PASSAGES]) <= 1e-5
    again = embedder.encode_passages(["Eén alinea."])  # now loaded, it serves passages
    direct = embedder._loaded().encode(
        ["Eén alinea."], prompt_name="passage", normalize_embeddings=True, convert_to_numpy=True
    )
    np.testing.assert_array_equal(again, direct)


def test_threads_share_one_encoder_and_get_the_same_vectors(embedding_settings) -> None:  # type: ignore[no-untyped-def]
    embedder = Embedder(embedding_settings)
    alone = Embedder(embedding_settings).encode_queries(QUESTIONS[:8])
    results: dict[int, np.ndarray] = {}
    encoders: set[int] = set()

    def ask(i: int) -> None:
        results[i] = embedder.encode_queries([QUESTIONS[i]])[0]
        encoders.add(id(embedder._query_encoder()))

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(encoders) == 1 and embedder._model is None
    np.testing.assert_array_equal(np.stack([results[i] for i in range(8)]), alone)
