"""Benchmark of the ingest limits: how fast odd inputs are refused, and what work under them costs.

Not a test: run it by hand and commit the figures it appends to bench/RESULTS.md::

    .venv/bin/python bench/bench_ingest_limits.py          # all cases (a few minutes)
    .venv/bin/python bench/bench_ingest_limits.py --quick  # small text only

Cases, each read (and cut into passages, as `legatus chunks` does) in its own process, so that
its peak memory (``ru_maxrss`` of that process) is its own:

1. A DOCX bomb: a package of 3 MiB whose document.xml inflates to 1 GiB. Refused from the
   ZIP directory before anything is unpacked (before the limits: 2.3 GB and 60 s).
2. Plain text just under and just over the text limit (``ReadLimits.max_text_mib``), made of the
   bundled reports' prose repeated: under, it must finish in bounded time and memory; over, it is
   refused from its size alone.
3. A DOCX with many paragraphs under the XML limit, to show the cost per MiB of DOCX XML.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ingest import chunk, read  # noqa: E402
from ingest.settings import ReadLimits  # noqa: E402
from ingest.types import IngestError  # noqa: E402

RESULTS = ROOT / "bench" / "RESULTS.md"
REPORTS = ROOT / "data" / "reports"
_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><w:document ' + _W + b"><w:body>"
_PARAGRAPH = b"<w:p><w:r><w:t>Een alinea van het rapport.</w:t></w:r></w:p>"


def worker(path: Path) -> dict[str, object]:
    """Read and chunk one file; its time, passages, outcome and peak memory."""
    started = time.perf_counter()
    try:
        outcome = f"{len(chunk(read(path)))} passages"
    except IngestError as exc:
        outcome = "refused: " + str(exc).removeprefix(f"{path}: ")
    return {
        "seconds": time.perf_counter() - started,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "outcome": outcome,
    }


def _measure(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.splitlines()[-1]))


def _docx(path: Path, xml_bytes: int, *, bomb: bool) -> Path:
    """A valid package whose document.xml holds about ``xml_bytes`` of paragraphs.

    A bomb repeats one paragraph (it packs a thousand times); otherwise each paragraph is
    numbered, so that it packs about as well as a real document's XML.
    """
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                dst.writestr(item.filename, src.read(item))
                continue
            with dst.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(_HEAD)
                written, number = 0, 0
                while written < xml_bytes:
                    if bomb:
                        block = _PARAGRAPH * 16384
                    else:
                        block = b"".join(
                            b"<w:p><w:r><w:t>Alinea %d van het rapport, over %d thema's.</w:t>"
                            b"</w:r></w:p>" % (number + i, (number + i) % 97)
                            for i in range(1024)
                        )
                        number += 1024
                    part.write(block)
                    written += len(block)
                part.write(b"</w:body></w:document>")
    return path


def _text(path: Path, size: int) -> Path:
    prose = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(REPORTS.glob("*.txt")))
    data = prose.encode() + b"\n\n"
    with path.open("wb") as handle:
        for _ in range(size // len(data)):
            handle.write(data)
        handle.write(data[: size % len(data)])
    return path


def _row(name: str, path: Path) -> str:
    result = _measure(path)
    size = path.stat().st_size / 2**20
    outcome = str(result["outcome"])
    outcome = outcome if len(outcome) < 110 else outcome[:107] + "…"
    line = (
        f"| {name} | {size:.1f} | {result['seconds']:.2f} | {result['peak_mib']:.0f} | {outcome} |"
    )
    print(line, flush=True)
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="Only a 4 MiB text.")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    limits = ReadLimits()
    text_limit = limits.max_text_mib * 2**20
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    machine = (f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
               f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, "
               f"{platform.python_implementation()} {platform.python_version()}")  # fmt: skip
    lines = [f"## Ingest limits benchmark, {stamp}", "", f"Machine: {machine}; load average at "
             f"start {os.getloadavg()[0]:.1f} (other jobs share the cores: timings are upper "
             "bounds).", "", f"Limits: text {limits.max_text_mib} MiB, PDF {limits.max_pdf_mib} "
             f"MiB, DOCX {limits.max_docx_mib} MiB (unpacked {limits.max_docx_unpacked_mib} MiB, "
             f"XML {limits.max_docx_xml_mib} MiB, ratio {limits.max_compression_ratio}). Each "
             "case is read and cut into passages in its own process; peak is that process's "
             "ru_maxrss.", "",
             "| case | file MiB | seconds | peak MiB | outcome |",
             "|---|---|---|---|---|"]  # fmt: skip
    print("\n".join(lines), flush=True)
    work = Path(tempfile.mkdtemp(prefix="legatus-bench-"))
    try:
        cases: list[tuple[str, Path]] = [("text, 4 MiB", _text(work / "klein.txt", 4 * 2**20))]
        if not args.quick:
            cases += [
                ("DOCX bomb, 1 GiB of XML", _docx(work / "bom.docx", 2**30, bomb=True)),
                ("text, just under the limit", _text(work / "onder.txt", text_limit - 4096)),
                ("text, just over the limit", _text(work / "boven.txt", text_limit + 1)),
                ("DOCX, 8 MiB of XML", _docx(work / "lang.docx", 8 * 2**20, bomb=False)),
            ]
        for name, path in cases:
            lines.append(_row(name, path))
            path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines.append("")
    with args.out.open("a", encoding="utf-8") as handle:
        handle.write("\n" + "\n".join(lines) + "\n")
    print(f"appended to {args.out}")


if __name__ == "__main__":
    main()
