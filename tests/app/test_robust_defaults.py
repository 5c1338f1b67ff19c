"""Safe defaults (issue 6): loopback unless told otherwise, a login for any other address, no
sharing or analytics, no pickle, documents only from the seeds folder, and nothing a user types
reaching a shell or a file path. Nothing here listens on anything but loopback.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rag.config import Settings
from rag.pipeline import Pipeline

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import ui  # noqa: E402  (ui.py is a script at the top of the repository)

ARTICLE = ROOT / "seeds" / "japan-ki-aufholjagd.txt"


# --- who may connect --------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]", " 127.0.0.1 "])
def test_loopback_addresses(host) -> None:
    assert ui.is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", "laptop", ""])
def test_other_addresses_are_not_loopback(host) -> None:
    assert not ui.is_loopback(host)


def test_loopback_needs_no_login_but_may_have_one() -> None:
    assert ui.launch_auth("127.0.0.1", None, {}) is None
    assert ui.launch_auth("127.0.0.1", "anna:geheim", {}) == ("anna", "geheim")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "my-laptop"])
def test_exposed_address_without_credentials_is_refused(host) -> None:
    with pytest.raises(ValueError, match="--auth USER:PASSWORD.*RAG_AUTH"):
        ui.launch_auth(host, None, {})
    with pytest.raises(ValueError, match="refusing"):
        ui.launch_auth(host, None, {"RAG_AUTH": ""})


def test_exposed_address_with_credentials_from_flag_or_environment() -> None:
    assert ui.launch_auth("0.0.0.0", "anna:ge:heim", {}) == ("anna", "ge:heim")
    assert ui.launch_auth("0.0.0.0", None, {"RAG_AUTH": "bob:pw"}) == ("bob", "pw")
    assert ui.launch_auth("0.0.0.0", "anna:x", {"RAG_AUTH": "bob:pw"}) == ("anna", "x")  # flag wins


@pytest.mark.parametrize("value", ["anna", ":pw", "anna:", ":", " :pw"])
def test_malformed_credentials_are_refused(value) -> None:
    with pytest.raises(ValueError, match="USER:PASSWORD"):
        ui.launch_auth("0.0.0.0", value, {})
    with pytest.raises(ValueError, match="USER:PASSWORD"):
        ui.launch_auth("127.0.0.1", None, {"RAG_AUTH": value})


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("auth_env", [None, "no-colon"], ids=["no credentials", "malformed RAG_AUTH"])
def test_ui_refuses_to_start_on_all_interfaces_without_a_login(tmp_path, auth_env) -> None:
    """`python ui.py --host 0.0.0.0` stops with one clear line before loading or binding anything."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "RAG_AUTH"}
    if auth_env is not None:
        env["RAG_AUTH"] = auth_env
    result = subprocess.run(
        [sys.executable, str(ROOT / "ui.py"), "--host", "0.0.0.0", "--port", str(port),
         "--index", str(tmp_path / "index"), "--seeds", str(tmp_path / "no-seeds")],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("ui.py: error:") and result.stderr.count("\n") == 1, result.stderr
    assert ("--auth USER:PASSWORD" if auth_env is None else "USER:PASSWORD") in result.stderr
    assert "Loading the model" not in result.stderr and not (tmp_path / "index").exists()


@pytest.mark.slow
def test_ui_with_a_model_it_cannot_load_ends_in_one_error_line(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "ui.py"), "--port", str(_free_port()),
         "--model", str(tmp_path / "no-model"), "--index", str(tmp_path / "index"),
         "--seeds", str(ROOT / "seeds")],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith("ui.py: error: cannot load model"), result.stderr


class _Launched(Exception):
    """Raised by the patched launch() so main() stops there; carries what it was called with."""


@pytest.fixture
def launch_args(monkeypatch, article_pipeline):
    """Run ui.main(argv) up to ``launch()`` with the article pipeline; returns (demo, kwargs)."""
    import gradio as gr

    import rag.pipeline

    monkeypatch.setattr(rag.pipeline.Pipeline, "open", classmethod(lambda cls, *a, **k: article_pipeline))

    def fake_launch(self, **kwargs):
        raise _Launched(self, kwargs)

    monkeypatch.setattr(gr.Blocks, "launch", fake_launch)
    monkeypatch.delenv("RAG_AUTH", raising=False)

    def run(*argv: str):
        with pytest.raises(_Launched) as launched:
            ui.main(list(argv))
        return launched.value.args

    return run


def test_default_launch_is_loopback_without_sharing_analytics_or_monitoring(launch_args) -> None:
    demo, kwargs = launch_args()
    assert kwargs["server_name"] == "127.0.0.1"
    assert kwargs["share"] is False and kwargs["auth"] is None
    assert kwargs["enable_monitoring"] is False and kwargs["mcp_server"] is False
    assert demo.analytics_enabled is False
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"  # forced at import, whatever was set


def test_exposed_launch_carries_the_login(launch_args, monkeypatch) -> None:
    demo, kwargs = launch_args("--host", "0.0.0.0", "--auth", "anna:geheim")
    assert kwargs["server_name"] == "0.0.0.0" and kwargs["auth"] == ("anna", "geheim")
    monkeypatch.setenv("RAG_AUTH", "bob:pw")
    demo, kwargs = launch_args("--host", "0.0.0.0")
    assert kwargs["auth"] == ("bob", "pw") and kwargs["share"] is False


def test_start_up_prints_the_address_and_no_share_hint(tmp_path, monkeypatch, capfd) -> None:
    """ui.main launches for real (fake encoder, loopback, a free port) and prints its address,
    never Gradio's "To create a public link, set `share=True`" hint."""
    import gradio as gr
    from conftest import FakeEncoder

    import rag.index.encoders as encoders

    monkeypatch.setattr(encoders, "build_encoder", lambda *a, **k: FakeEncoder())
    monkeypatch.setattr(encoders, "preload", lambda *a, **k: None)
    monkeypatch.delenv("RAG_AUTH", raising=False)
    served: list[str] = []

    def stop_at_once(self) -> None:  # instead of waiting for Ctrl+C
        served.append(self.local_url)
        self.close()

    monkeypatch.setattr(gr.Blocks, "block_thread", stop_at_once)
    (tmp_path / "seeds").mkdir()
    shutil.copy(ARTICLE, tmp_path / "seeds" / ARTICLE.name)
    port = _free_port()
    assert ui.main(["--port", str(port), "--index", str(tmp_path / "index"),
                    "--seeds", str(tmp_path / "seeds")]) == 0
    out, err = capfd.readouterr()
    assert served == [f"http://127.0.0.1:{port}/"]
    assert "share=True" not in out + err and "public link" not in out + err, out + err
    assert f"* Running on local URL:  http://127.0.0.1:{port}/" in out.splitlines()


# --- no pickle, no shell, no file paths from user input ----------------------------------------

SOURCES = sorted((ROOT / "rag").rglob("*.py")) + [ROOT / "ui.py"]


def test_sources_never_unpickle_or_run_a_shell() -> None:
    forbidden = {
        "pickle import": re.compile(r"^\s*(import|from)\s+(c?pickle|dill|joblib)\b", re.M),
        "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
        "torch.load": re.compile(r"\btorch\.load\("),
        "shell=True": re.compile(r"shell\s*=\s*True"),
        "os.system/popen": re.compile(r"\bos\.(system|popen|exec\w*|spawn\w*)\("),
        "eval/exec": re.compile(r"(?<![\w.])(eval|exec)\("),
    }
    found = [
        f"{path.name}: {name}"
        for path in SOURCES
        for name, pattern in forbidden.items()
        if pattern.search(path.read_text("utf-8"))
    ]
    assert found == []
    # Only developer tools start processes, with fixed argument lists: the benchmark (itself, the
    # chat server it loads) and the evaluation (git rev-parse/status for the report). The question
    # path never does.
    users = {p.name for p in SOURCES if re.search(r"^\s*import subprocess", p.read_text("utf-8"), re.M)}
    assert users <= {"common.py", "load.py", "runner.py", "eval_command.py"}


NO_PICKLE_SCRIPT = textwrap.dedent(
    """
    import io, pickle, sys
    events = []
    sys.addaudithook(lambda event, args: events.append(args[:2]) if event == "pickle.find_class" else None)

    def refuse(*args, **kwargs):
        events.append("pickle.load(s)")
        raise RuntimeError("pickle is not allowed")

    class Unpickler(pickle.Unpickler):
        def __init__(self, *args, **kwargs):
            events.append("Unpickler")
            super().__init__(*args, **kwargs)

    pickle.load = pickle.loads = refuse
    pickle.Unpickler = Unpickler

    from rag.config import Settings
    from rag.pipeline import Pipeline
    settings = Settings(seeds_dir=sys.argv[1], index_dir=sys.argv[2])
    Pipeline.open(settings, progress=False, on_status=lambda m: None)     # builds the index
    pipeline = Pipeline.open(settings, progress=False, on_status=lambda m: None)  # loads it
    answer = pipeline.ask("Wer leitet den Technologieinvestor Softbank?")
    assert answer.citations
    print("EVENTS", events)
    """
)


@pytest.mark.slow
def test_no_pickle_is_loaded_building_loading_or_answering(tmp_path) -> None:
    """The real model, a real build, a real load and a question, with every unpickling hooked."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(ARTICLE, seeds)
    result = subprocess.run(
        [sys.executable, "-c", NO_PICKLE_SCRIPT, str(seeds), str(tmp_path / "index")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "EVENTS []" in result.stdout, result.stdout
    assert not [p for p in (tmp_path / "index").rglob("*") if p.suffix in (".pkl", ".pickle", ".joblib")]


def test_documents_are_read_only_from_the_seeds_folder(tmp_path, fake_encoder) -> None:
    """Every document file opened while building is inside seeds/; question sets, hidden files
    and files next to the folder are left alone."""
    seeds = tmp_path / "seeds"
    (seeds / "eval").mkdir(parents=True)
    (seeds / ".hidden").mkdir()
    shutil.copy(ARTICLE, seeds)
    (seeds / "eval" / "questions.txt").write_text("Keine Quelle.", encoding="utf-8")
    (seeds / ".hidden" / "notes.txt").write_text("Keine Quelle.", encoding="utf-8")
    (tmp_path / "beside.txt").write_text("Keine Quelle.", encoding="utf-8")
    opened: list[str] = []
    active = [True]

    def hook(event: str, args: tuple) -> None:
        if active[0] and event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(hook)  # cannot be removed; switched off below
    try:
        pipeline = Pipeline.open(
            Settings(seeds_dir=seeds, index_dir=tmp_path / "index"), encoder=fake_encoder,
            progress=False, on_status=lambda m: None,
        )
    finally:
        active[0] = False
    # Libraries' own data files (somajo's word lists, when it is first imported here) are not documents.
    libraries = tuple(Path(p).resolve() for p in {sys.prefix, sys.base_prefix})
    documents = [p for p in opened if p.endswith((".txt", ".md"))
                 and not any(Path(p).resolve().is_relative_to(lib) for lib in libraries)]
    assert documents and all(Path(p).resolve().is_relative_to(seeds.resolve()) for p in documents), documents
    assert not [p for p in documents if "eval" in p or ".hidden" in p or "beside" in p]
    assert [d.doc_id for d in pipeline.index.documents] == [ARTICLE.stem]


def test_nothing_a_user_types_reaches_a_shell_or_a_file_path(article_pipeline, tmp_path) -> None:
    """While answering hostile questions, no process is started and no file is opened at all."""
    marker = tmp_path / "pwned"
    hostile = [
        f"$(touch {marker}) `touch {marker}`; touch {marker} | sh",
        "../../../../etc/passwd",
        f"{tmp_path}/../../etc/shadow",
        "file:///etc/passwd %2e%2e%2f%2e%2e%2fetc",
        "C:\\Windows\\System32\\config\\SAM",
        "'; DROP TABLE users; --",
        "{{''.__class__.__mro__[1].__subclasses__()}} ${jndi:ldap://127.0.0.1:9/x}",
        "__import__('os').system('id')",
    ]
    article_pipeline.ask("Wer leitet Softbank?", ["Wer?"])  # lazy imports happen before recording
    events: list[tuple[str, str]] = []
    active = [True]
    watched = ("open", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn",
               "os.fork", "pty.spawn", "shutil.", "os.remove", "os.rename", "os.mkdir", "socket.connect")

    def hook(event: str, args: tuple) -> None:
        if active[0] and event.startswith(watched):
            events.append((event, repr(args)[:200]))

    sys.addaudithook(hook)
    try:
        for question in hostile:
            answer = article_pipeline.ask(question, [question])
            assert answer.text
    finally:
        active[0] = False
    assert events == []
    assert not marker.exists()


@pytest.mark.parametrize("argv, environ, expected", [
    ([], {}, False),
    (["--read-only"], {}, True),
    ([], {"RAG_READ_ONLY": "1"}, True),
    ([], {"RAG_READ_ONLY": "no"}, False),
])
def test_read_only_from_flag_or_environment(monkeypatch, argv, environ, expected) -> None:
    monkeypatch.delenv("RAG_READ_ONLY", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    assert ui.build_parser().parse_args(argv).read_only is expected
