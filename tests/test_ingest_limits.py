"""Ingest reliability (issue #13): odd files cost only themselves, limits are checked before the
expensive work, links and unreadable folders are reported by name and never cause pruning."""

from __future__ import annotations

import ctypes
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from typer.testing import CliRunner

import ingest.pipeline
from index.store import read_manifest
from ingest import read_batch, scan
from ingest.readers import READERS, read_raw
from ingest.settings import ReadLimits
from ingest.types import IngestError, RawDocument
from tests.conftest import MODEL_CACHE, ROOT
from ui.cli import app

REPORT = (
    "# Noordzee\n\nDe Noordzee is een knooppunt van energie en handel. Pijpleidingen en kabels "
    "op de zeebodem zijn kwetsbaar voor sabotage. Het kabinet wil de bewaking versterken.\n"
)


def _nested_html(depth: int) -> str:
    return (
        "<html lang='nl'><body><h1>Diep genest</h1><p>Eerste alinea van de pagina.</p>"
        + "<div>" * depth
        + "<p>Tekst diep binnenin.</p><div>Nog een blok.</div>"
        + "</div>" * depth
        + "<p>Slotalinea.</p></body></html>"
    )


# --- 1. a reader failure costs one file ------------------------------------------------------


def test_deeply_nested_html_is_read_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "diep.html").write_text(_nested_html(600), encoding="utf-8")
    (tmp_path / "goed.md").write_text(REPORT, encoding="utf-8")

    found = scan([tmp_path])
    batch = read_batch(found.files, skipped=found.failures)

    assert batch.failures == ()
    by_id = {d.doc_id: d for d in batch.documents}
    assert set(by_id) == {"diep", "goed"}
    deep = by_id["diep"].text
    # the text under the 600 levels is read, in order, as separate paragraphs
    order = [deep.index(t) for t in ("Eerste alinea", "Tekst diep binnenin.", "Nog een blok.")]
    assert order == sorted(order) and deep.rstrip().endswith("Slotalinea.")
    assert "binnenin.Nog" not in deep


def test_unexpected_reader_error_skips_that_file_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A reader bug cannot be had on purpose from a real file once it is fixed: inject one.
    def broken(path: Path) -> RawDocument:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setitem(READERS, ".html", broken)
    bad, good = tmp_path / "pagina.html", tmp_path / "goed.md"
    bad.write_text("<p>tekst</p>", encoding="utf-8")
    good.write_text(REPORT, encoding="utf-8")

    batch = read_batch(scan([tmp_path]).files)

    assert [d.doc_id for d in batch.documents] == ["goed"]
    [failure] = batch.failures
    assert failure.path == bad
    assert failure.reason.startswith("reading failed unexpectedly (RecursionError:")


def test_cli_ingest_exit_status_tells_a_crash_from_skipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "goed.md").write_text(REPORT, encoding="utf-8")

    def crash(*args: object, **kwargs: object) -> list[object]:
        raise ValueError("simulated bug while cutting passages")

    monkeypatch.setattr(ingest.pipeline, "chunk", crash)  # as prepare() calls it
    result = CliRunner().invoke(app, ["ingest", str(tmp_path)])

    assert result.exit_code == 3, result.output
    assert "ingest failed unexpectedly (simulated bug" in result.stderr
    assert "please report this bug" in result.stderr


# --- 5. a skipped file is named once ---------------------------------------------------------


def test_skip_message_names_the_path_once(tmp_path: Path) -> None:
    bad = tmp_path / "kapot.pdf"
    bad.write_bytes(b"this is not a pdf at all")
    (tmp_path / "goed.md").write_text(REPORT, encoding="utf-8")

    result = CliRunner().invoke(app, ["chunks", str(tmp_path)])

    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stderr.splitlines() if line.startswith("skipped")]
    assert line.startswith(f"skipped {bad}: is not a PDF")
    assert line.count(str(bad)) == 1 and line.count("kapot.pdf") == 1
    assert json.loads(result.stdout.splitlines()[0])["doc_id"] == "goed"


# --- 3. size limits, checked before reading --------------------------------------------------


def test_text_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "groot.txt"
    # Binary content: had it been read, the refusal would be "not text", not the size.
    big.write_bytes(b"\x00\x01" * (2**20 * 3 // 4))  # 1.5 MiB

    with pytest.raises(IngestError) as refused:
        read_raw(big, limits=ReadLimits(max_text_mib=1))

    assert str(refused.value).startswith(
        f"{big}: is 1,572,864 bytes (1.5 MiB), over the limit of 1 MiB for .txt files "
        "(LEGATUS_LIMITS__MAX_TEXT_MIB)"
    )
    assert "MB" not in str(refused.value).replace("MiB", "")


@pytest.mark.parametrize(("suffix", "mib"), [(".md", 20), (".html", 20), (".pdf", 100)])
def test_default_limits_by_format(tmp_path: Path, suffix: str, mib: int) -> None:
    big = tmp_path / f"groot{suffix}"
    with big.open("wb") as handle:
        handle.truncate(mib * 2**20 + 1)  # sparse: no disk used, and nothing worth reading

    with pytest.raises(IngestError, match=rf"over the limit of {mib} MiB for \{suffix} files"):
        read_raw(big)


def _docx_bytes() -> bytes:
    document = docx.Document()
    document.add_heading("Rapport", level=1)
    document.add_paragraph("Een gewone alinea van het rapport.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _with_document_xml(package: bytes, document_xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = document_xml if item.filename == "word/document.xml" else src.read(item)
            dst.writestr(item.filename, data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _declare_size(package: bytes, name: str, size: int) -> bytes:
    """The package with the central directory claiming ``size`` unpacked bytes for ``name``."""
    data = bytearray(package)
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name.encode():
            struct.pack_into("<I", data, at + 24, size)
            return bytes(data)
        at = data.find(b"PK\x01\x02", at + 4)
    raise AssertionError(f"{name} not in the package")


def test_docx_bomb_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    # The part's data is a small valid deflate stream but the package declares 1 GiB: had the
    # part been unpacked, zipfile would fail its CRC and the file would read as "damaged".
    bomb = tmp_path / "bom.docx"
    bomb.write_bytes(_declare_size(_docx_bytes(), "word/document.xml", 2**30))

    with pytest.raises(IngestError) as refused:
        read_raw(bomb)

    message = str(refused.value)
    assert "unpack to 102" in message and "MiB, over the limit of " in message
    assert "LEGATUS_LIMITS__MAX_DOCX" in message and "it was not unpacked" in message
    assert "damaged" not in message


def test_docx_with_a_suspicious_compression_ratio_is_refused(tmp_path: Path) -> None:
    paragraph = b"<w:p><w:r><w:t>bom</w:t></w:r></w:p>"
    xml = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w='
        b'"http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + paragraph * (2 * 2**20 // len(paragraph))
        + b"</w:body></w:document>"
    )
    bomb = tmp_path / "bom.docx"
    bomb.write_bytes(_with_document_xml(_docx_bytes(), xml))
    assert bomb.stat().st_size < 2**16  # 2 MiB of XML in a small package, under the size limits

    with pytest.raises(
        IngestError, match=r"part word/document\.xml unpacks to 2\.0 MiB, \d+ times"
    ):
        read_raw(bomb)
    # The same package is read when the ratio limit allows it: the check is the only obstacle
    assert read_raw(bomb, limits=ReadLimits(max_compression_ratio=10000)).blocks


# --- 4. links ---------------------------------------------------------------------------------


def _reasons(root: Path) -> dict[str, str]:
    return {str(f.path.relative_to(root)): f.reason for f in scan([root]).failures}


def test_link_out_of_the_folder_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "goed.md").write_text(REPORT, encoding="utf-8")
    (tmp_path / "passwd-link.txt").symlink_to("/etc/passwd")
    (tmp_path / "etc").symlink_to("/etc")

    found = scan([tmp_path])

    assert found.files == (tmp_path / "goed.md",)
    reasons = _reasons(tmp_path)
    assert set(reasons) == {"passwd-link.txt", "etc"}
    assert reasons["passwd-link.txt"].startswith("is a link to /etc/passwd, outside the folder")
    assert reasons["etc"].startswith("is a link to /etc, outside the folder")


def test_dangling_links_and_loops_are_reported(tmp_path: Path) -> None:
    (tmp_path / "goed.md").write_text(REPORT, encoding="utf-8")
    (tmp_path / "weg.md").symlink_to("bestaat-niet.md")
    (tmp_path / "a.txt").symlink_to("b.txt")
    (tmp_path / "b.txt").symlink_to("a.txt")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "terug").symlink_to("..")

    reasons = _reasons(tmp_path)

    assert scan([tmp_path]).files == (tmp_path / "goed.md",)
    assert reasons["weg.md"] == (
        "is a dangling link (to bestaat-niet.md); remove it, or point it at a report"
    )
    assert reasons["a.txt"].startswith("is a loop of links")
    assert reasons["b.txt"].startswith("is a loop of links")
    assert reasons["sub/terug"].startswith(f"is a link to {tmp_path.resolve()}, a folder that")
    assert "(a loop)" in reasons["sub/terug"]


def test_links_inside_the_folder_are_followed_once(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "rapport.md").write_text(REPORT, encoding="utf-8")
    (tmp_path / "alias.md").symlink_to("sub/rapport.md")
    (tmp_path / "spiegel").symlink_to("sub")
    (tmp_path / ".verborgen").mkdir()
    (tmp_path / ".verborgen" / "apart.md").write_text(REPORT.replace("Noordzee", "Waddenzee"))
    (tmp_path / "apart.md").symlink_to(".verborgen/apart.md")

    found = scan([tmp_path])

    assert found.failures == ()
    # the real file wins over the link to it; a link to a hidden file inside is followed
    assert found.files == (tmp_path / "apart.md", tmp_path / "sub" / "rapport.md")
    assert [d.doc_id for d in read_batch(found.files).documents] == ["apart", "rapport"]


# --- 2. an unreadable folder is reported and nothing under it is pruned ------------------------


def _without_file_permission_override() -> None:
    """Run the child as root does not: subject to file permissions.

    The suite runs as root, which reads any folder through CAP_DAC_OVERRIDE and
    CAP_DAC_READ_SEARCH. Dropping them from the bounding set before exec leaves the child
    without them, so `chmod 000` stops it as it stops any user. (Switching to `nobody` is not an
    option here: the interpreter lives under /root, mode 0700.)
    """
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _ingest_unprivileged(reports: Path, index: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LEGATUS_INDEX__PATH": str(index),
        "LEGATUS_EMBEDDING__CACHE_DIR": str(MODEL_CACHE),
    }
    return subprocess.run(
        [sys.executable, "-c", "from ui.cli import main; main()", "ingest", str(reports)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_without_file_permission_override,
    )


def test_unreadable_folder_is_reported_and_its_reports_are_kept(tmp_path: Path) -> None:
    reports, index = tmp_path / "reports", tmp_path / "index"
    (reports / "sub").mkdir(parents=True)
    (reports / "noordzee.md").write_text(REPORT, encoding="utf-8")
    (reports / "sub" / "waddenzee.md").write_text(REPORT.replace("Noordzee", "Waddenzee"))

    first = _ingest_unprivileged(reports, index)
    assert first.returncode == 0, first.stderr
    assert "reports added 2" in first.stdout

    (reports / "sub").chmod(0)
    try:
        locked = subprocess.run(
            ["ls", str(reports / "sub")],
            capture_output=True,
            preexec_fn=_without_file_permission_override,
        )
        assert locked.returncode != 0  # the child really meets the permissions
        second = _ingest_unprivileged(reports, index)
    finally:
        (reports / "sub").chmod(0o755)

    assert second.returncode == 1, second.stderr
    assert (
        f"skipped {reports / 'sub'}: folder cannot be listed (Permission denied)" in second.stderr
    )
    assert "1 skipped" in second.stdout and "updated 0, removed 0;" in second.stdout
    assert "kept waddenzee in the index" in second.stderr
    assert set(read_manifest(index).documents) == {"noordzee", "waddenzee"}
