"""Benchmark: from a report landing in a watched folder to its answer on the running page.

Not a test: run it by hand and commit the figures it prints to bench/RESULTS.md::

    .venv/bin/python bench/bench_watch.py [--pages 60] [--busy]

It indexes a small generated corpus (tests/corpus.py), starts ``legatus serve`` over that index
(reloading every 2 s, as a short LEGATUS_UI__INDEX_RELOAD_S) and ``legatus watch`` on an empty
folder, then copies in a generated PDF of ``--pages`` pages (about 330 words each, numbered
sections, one fact on a late page) and asks the page, through its own API, the question that
fact answers until the answer holds it. By default the page is asked once a second from the
moment the watcher swaps the new index in (an idle page, as between users' questions);
``--busy`` asks it once a second from the copy on, so that answering competes with the watcher
for the two cores.
Printed: when the new index was swapped in, the seconds from the copy to the first right answer,
and the watcher's log (its steps with their times).
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fpdf import FPDF  # noqa: E402

from tests.corpus import FONT_DIR, write_corpus  # noqa: E402
from tests.web_helpers import legatus_command, legatus_env, serving  # noqa: E402

FACT = "De werkgroep raamt de kosten van het nieuwe radarnetwerk op 3,7 miljard euro."
QUESTION = "Op hoeveel euro raamt de werkgroep de kosten van het nieuwe radarnetwerk?"
WORDS = (
    "Europese samenwerking defensie veiligheid strategie industrie investeringen Navo "
    "bondgenoten capaciteit afschrikking begroting lidstaten planning technologie "
    "toeleveringsketen weerbaarheid crisis analyse beleid overheid markt onderzoek"
).split()


def report_pdf(path: Path, pages: int) -> None:
    rng = random.Random(7)
    pdf = FPDF(format="A4")
    pdf.add_font("D", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("D", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    fact_page = max(1, pages * 2 // 3)
    for n in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("D", "B", 14)
        pdf.multi_cell(0, 8, f"{n}. Hoofdstuk over onderwerp {n}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("D", "", 11)
        for _ in range(6):
            words = [rng.choice(WORDS) for _ in range(55)]
            text = " ".join(words).capitalize() + "."
            if n == fact_page and _ == 2:
                text += " " + FACT
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
    pdf.output(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument(
        "--busy",
        action="store_true",
        help="ask the page once a second from the copy on, so that answering competes with the "
        "watcher for the cores (default: from the moment the watcher swaps the new index in)",
    )
    args = parser.parse_args()
    from gradio_client import Client

    from index.embedding import get_embedder
    from index.settings import EmbeddingSettings
    from tests.corpus import ingest_folder
    from ui.live import manifest_identity

    with tempfile.TemporaryDirectory(prefix="legatus-bench-watch-") as tmp:
        home = Path(tmp)
        index = home / "index"
        ingest_folder(index, write_corpus(home / "corpus"), get_embedder(EmbeddingSettings()))
        incoming = home / "incoming"
        incoming.mkdir()
        report = home / "radar.pdf"
        report_pdf(report, args.pages)
        log_path = home / "watch.log"
        with (
            serving(index, home, LEGATUS_UI__INDEX_RELOAD_S="2") as url,
            log_path.open("w") as log,
        ):
            watcher = subprocess.Popen(
                [*legatus_command(), "watch", str(incoming)], env=legatus_env(index, home),
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                while "waiting for changes" not in log_path.read_text():
                    time.sleep(0.5)
                client = Client(url, verbose=False)
                before = manifest_identity(index)
                started = time.monotonic()
                shutil.copy(report, incoming / report.name)
                written = None
                while True:
                    if written is None and manifest_identity(index) not in (before, None):
                        written = time.monotonic() - started
                    if args.busy or written is not None:
                        out = client.predict(QUESTION, [], [], "", "", api_name="/ask")
                        if "3,7 miljard" in str(out[0][-1]["content"]):
                            break
                    if time.monotonic() - started > 900:
                        raise SystemExit("not answered within 15 minutes")
                    time.sleep(1)
                seconds = time.monotonic() - started
                while "sentences embedded" not in log_path.read_text().split("waiting")[-1]:
                    time.sleep(1)  # the watcher's second step, shown in its log below
            finally:
                watcher.terminate()
                watcher.wait(timeout=30)
        asked = (
            "asked once a second from the copy on (a busy page)"
            if args.busy
            else "asked once a second from the new index's swap on (an idle page)"
        )
        print(f"- a {args.pages}-page PDF ({report.stat().st_size / 1024:.0f} KiB) copied into "
              f"the watched folder; the new index swapped in after {written or 0:.0f} s; "
              f"answered on the running page after **{seconds:.0f} s**, the page {asked}; "
              "page reload interval 2 s, --settle 2 s")  # fmt: skip
        print("- the watcher's log, from waiting for changes on:")
        lines = log_path.read_text().splitlines()
        start = next(i for i, line in enumerate(lines) if "waiting" in line)
        for line in lines[start:]:
            if line.strip() and "stopped" not in line:
                print(f"  - `{line.strip()}`")


if __name__ == "__main__":
    main()
