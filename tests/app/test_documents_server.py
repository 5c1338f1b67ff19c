"""Documents added and removed through the running chat server over HTTP (gradio_client and
Gradio's own upload route), with the real model: a new PDF is searchable without a restart and
cited with its page, `rag list` sees it, and every bad upload gets its one message while the
server keeps answering. The server runs on its own copy of seeds/ with a 1 MB upload limit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from uploads import (
    BAD_UPLOAD_MESSAGES,
    GARDEN_MD,
    PAGE_TWO_FACT,
    PAGE_TWO_QUESTION,
    make_bad_uploads,
    make_pdf,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = "japan-ki-aufholjagd"


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory):
    from conftest import serving_ui

    work = tmp_path_factory.mktemp("docs-server")
    seeds = work / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    with serving_ui(work, seeds, "--max-upload-mb", "1") as server:
        yield server


@pytest.fixture(scope="module")
def client(docs_server):
    from gradio_client import Client

    return Client(docs_server.url, verbose=False)


def _add(client, *paths: Path) -> dict:
    from gradio_client import handle_file

    return client.predict([handle_file(str(p)) for p in paths], api_name="/add_documents")


def _seed_names(server) -> list[str]:
    return sorted(p.name for p in Path(server.option("--seeds")).iterdir() if p.is_file())


def _still_answers(client) -> None:
    answer = client.predict("Wer leitet den Technologieinvestor Softbank?", api_name="/ask")
    assert "Masayoshi Son" in answer["answer"]


def test_a_pdf_added_over_http_is_searched_cited_by_page_listed_and_removed(
    docs_server, client, tmp_path
) -> None:
    before = client.predict(PAGE_TWO_QUESTION, api_name="/ask")
    assert not any(PAGE_TWO_FACT in c["text"] for c in before["citations"])

    pdf = make_pdf(tmp_path / "Nordby lighthouse.pdf")
    md = tmp_path / "garden.md"
    md.write_text(GARDEN_MD, "utf-8")
    result = _add(client, pdf, md)
    assert [(a["status"], a["doc_id"]) for a in result["added"]] == [
        ("added", "Nordby-lighthouse"), ("added", "garden")]
    assert result["rebuilt"] and not result["error"]
    rows = {d["doc_id"]: d for d in result["documents"]}
    assert (rows["Nordby-lighthouse"]["pages"], rows["Nordby-lighthouse"]["format"]) == (3, "pdf")
    assert rows["garden"]["title"] == "Garden notes" and rows["garden"]["language"] == "en"
    assert "path" not in rows["garden"]  # where the server keeps files is not given out

    answer = client.predict(PAGE_TWO_QUESTION, api_name="/ask")
    cited = [c for c in answer["citations"] if PAGE_TWO_FACT in c["text"]]
    assert cited and cited[0]["doc_id"] == "Nordby-lighthouse" and cited[0]["page"] == 2

    # The same folders as the CLI: `rag list` sees the upload, the REST API lists it too.
    listed = subprocess.run(
        [sys.executable, "-m", "rag", "list", "--json", "--seeds", docs_server.option("--seeds"),
         "--index", docs_server.option("--index")],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT,
    )
    listed_ids = {d["doc_id"] for d in json.loads(listed.stdout)["documents"]}
    assert {"Nordby-lighthouse", "garden", ARTICLE} <= listed_ids
    rest = httpx.get(docs_server.url + "api/documents", timeout=30).json()["documents"]
    assert "Nordby-lighthouse" in {d["doc_id"] for d in rest}

    removed = client.predict("Nordby-lighthouse", api_name="/remove_document")
    assert removed["removed"] == "Nordby Lighthouse Report" and removed["rebuilt"]
    assert "Nordby-lighthouse.pdf" not in _seed_names(docs_server)
    after = client.predict(PAGE_TWO_QUESTION, api_name="/ask")
    assert not any(c["doc_id"] == "Nordby-lighthouse" for c in after["citations"])
    assert client.predict("garden", api_name="/remove_document")["rebuilt"]


def test_bad_uploads_over_http_each_get_their_message_and_the_server_keeps_serving(
    docs_server, client, tmp_path
) -> None:
    bad = make_bad_uploads(tmp_path / "uploads")
    copy = tmp_path / "copy-of-the-article.txt"  # the bundled article under another name
    copy.write_bytes((Path(docs_server.option("--seeds")) / f"{ARTICLE}.txt").read_bytes())
    before = _seed_names(docs_server)
    result = _add(client, *bad.values(), copy)
    by_name = {a["name"]: a for a in result["added"]}
    for kind, path in bad.items():
        assert by_name[path.name]["status"] == "refused", kind
        assert BAD_UPLOAD_MESSAGES[kind] in by_name[path.name]["message"], kind
        assert "/tmp" not in by_name[path.name]["message"]
    duplicate = by_name[copy.name]
    assert duplicate["status"] == "duplicate" and duplicate["doc_id"] == ARTICLE
    title = "Japans Aufholjagd bei der künstlichen Intelligenz"
    assert f"same content as \u201c{title}\u201d ({ARTICLE}.txt)" in duplicate["message"]
    assert not result["rebuilt"]
    assert _seed_names(docs_server) == before
    _still_answers(client)


def test_oversize_upload_is_refused_while_it_streams_in(docs_server, client, tmp_path) -> None:
    """Gradio refuses a file over --max-upload-mb at its upload route: it never reaches a handler."""
    big = b"Ein Satz \xc3\xbcber den Hafen. " * 50_000  # 1.3 MB > 1 MB
    response = httpx.post(docs_server.url + "gradio_api/upload",
                          files=[("files", ("big.txt", big, "text/plain"))], timeout=60)
    assert response.status_code == 413
    assert "File size exceeded maximum allowed size" in response.text
    assert "big.txt" not in _seed_names(docs_server)
    _still_answers(client)


def test_path_traversal_name_through_gradio_upload_route_stays_in_the_seeds_folder(
    docs_server, client
) -> None:
    response = httpx.post(docs_server.url + "gradio_api/upload", timeout=60,
                          files=[("files", ("../../evil notes.md", GARDEN_MD.encode(), "text/markdown"))])
    response.raise_for_status()
    [stored] = response.json()
    seeds = Path(docs_server.option("--seeds"))
    result = client.predict(
        [{"path": stored, "orig_name": "../../evil notes.md", "meta": {"_type": "gradio.FileData"}}],
        api_name="/add_documents",
    )
    [added] = result["added"]
    assert added["status"] == "added" and added["doc_id"] == "evil-notes"
    assert (seeds / "evil-notes.md").is_file()
    assert not any(p.name.startswith("evil") for p in seeds.parent.iterdir())
    assert client.predict("evil-notes", api_name="/remove_document")["rebuilt"]


def test_a_read_only_server_lists_documents_but_offers_no_way_to_change_them(tmp_path) -> None:
    """`--read-only`: no upload or delete in the page, no /add_documents or /remove_document
    route (a call is refused), questions answered as usual, the seeds folder untouched."""
    from conftest import serving_ui
    from gradio_client import Client

    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    before = sorted(p.name for p in seeds.rglob("*"))
    with serving_ui(tmp_path, seeds, "--read-only") as server:
        client = Client(server.url, verbose=False)
        endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        assert set(endpoints) == {"/ask"}
        refused = httpx.post(f"{server.url}gradio_api/call/add_documents", json={"data": [[]]}, timeout=30)
        assert refused.status_code >= 400
        config = httpx.get(f"{server.url}config", timeout=30).json()
        by_elem = {c.get("props", {}).get("elem_id"): c["props"] for c in config["components"]}
        assert by_elem["upload"].get("visible") is False
        assert "answers questions only" in by_elem["read-only"]["value"]
        _still_answers(client)
    assert sorted(p.name for p in seeds.rglob("*")) == before
