"""Time to add a 20-page PDF from the chat: upload to searchable, against the real server.

Starts ``ui.py`` on a free loopback port over a temporary copy of ``seeds/`` (its own index),
builds a PDF with fpdf2 (20 pages, one fact per page, a question only page 20 answers), then
per run: uploads it through Gradio's upload route and ``/add_documents`` (what dropping it on
the page does), asks the page-20 question through ``/ask`` until a citation names page 20, and
removes the document again. Prints one line per run and the medians as JSON.

Usage: PYTHONPATH=$PWD .venv/bin/python bench/add_document.py [--pages 20] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "How deep is the harbour basin of Station 20?"


def page_text(number: int) -> str:
    """A page of plain survey prose; each page has its own numbers and names."""
    return (
        f"Station {number} of the coastal survey lies {number * 3} kilometres north of Nordby. "
        f"The harbour basin of Station {number} is {number + 7} metres deep. "
        f"Its pier was rebuilt in {1900 + number * 4} after a winter storm. "
        f"The survey team counted {number * 11} fishing boats in the bay that summer. "
        f"A small museum at Station {number} shows maps drawn by the keeper's family. "
        "Visitors reach it by ferry in spring and by road in the other seasons. "
        "The tide rises about two metres twice a day, and the water is cold all year. "
        "Seals rest on the rocks in front of the pier at low tide."
    )


def make_pdf(path: Path, pages: int) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Coastal Survey")
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, f"Station {number}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for _ in range(3):  # three paragraphs a page, about 1,800 characters
            pdf.multi_cell(0, 6, page_text(number))
            pdf.ln(3)
    pdf.output(str(path))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"ui.py exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "api/health", timeout=2):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise SystemExit(f"ui.py did not answer on {url} within {timeout:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="rag-add-bench-"))
    seeds = work / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    pdf = make_pdf(work / "coastal-survey.pdf", args.pages)
    pdf_bytes = pdf.stat().st_size
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False")
    log = open(work / "server.log", "wb")  # noqa: SIM115 - open while the server runs
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "ui.py"), "--port", str(port), "--seeds", str(seeds),
         "--index", str(work / "index")], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    runs = []
    try:
        wait_up(url, process)
        client = Client(url, verbose=False)
        for run in range(1, args.runs + 1):
            started = time.perf_counter()
            result = client.predict([handle_file(str(pdf))], api_name="/add_documents")
            added = time.perf_counter()
            [item] = result["added"]
            if item["status"] != "added":
                raise SystemExit(f"not added: {item['message']}")
            answer = client.predict(QUESTION, api_name="/ask")
            searchable = time.perf_counter()
            pages = [c.get("page") for c in answer["citations"] if c["doc_id"] == item["doc_id"]]
            if args.pages not in pages:
                raise SystemExit(f"the page-{args.pages} question was not answered from the PDF: {answer}")
            row = {"run": run, "upload_to_searchable_s": round(searchable - started, 2),
                   "add_call_s": round(added - started, 2), "server_change_s": result["seconds"],
                   "sentences": next(d["sentences"] for d in result["documents"]
                                     if d["doc_id"] == item["doc_id"])}
            print(json.dumps(row), flush=True)
            runs.append(row)
            client.predict(item["doc_id"], api_name="/remove_document")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)
    summary = {
        "pages": args.pages,
        "pdf_bytes": pdf_bytes,
        "runs": len(runs),
        "median_upload_to_searchable_s": statistics.median(r["upload_to_searchable_s"] for r in runs),
        "median_server_change_s": statistics.median(r["server_change_s"] for r in runs),
        "cores": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
