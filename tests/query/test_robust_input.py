"""Bad questions through the Python API and the command line (issue 6).

Every odd input gets a normal answer, a refusal, or one clear :class:`QuestionError` (CLI: one
line on stderr, exit status 2) -- never a traceback. Retrieval is being tuned elsewhere, so
these tests pin *how* the tool reacts, not which sentences it cites, except where the only
difference between two questions is noise that cleaning must remove.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.app.cli import EXIT_USER_ERROR, main
from rag.query.clean import MAX_HISTORY, QuestionError, clean_history, clean_question

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 2000  # Settings.max_question_chars, the documented limit

# Questions that are not answerable input: each must raise QuestionError with this message part.
REJECTED = {
    "empty": ("", "empty"),
    "white space only": (" \t\n\r\u00a0\u2003 ", "empty"),
    "NUL only": ("\x00\x00\x00", "empty"),
    "ANSI escapes only": ("\x1b[31m\x1b[0m\x1b[2J", "empty"),
    "only punctuation": ("?!?... ;;; --- «»", "words"),
    "only emoji": ("😀🤖🇯🇵", "words"),
    "zero-width characters only": ("\u200b\u200c\ufeff", "words"),
}

# Odd but legitimate questions: each must come back as an answer or a refusal.
ACCEPTED = {
    "control characters and NUL": "Wer\x00 leitet\x07 den\x08 Technologieinvestor Softbank?",
    "ANSI colours": "\x1b[31mWer leitet\x1b[0m den Technologieinvestor \x1b[1mSoftbank\x1b[0m?",
    "lone surrogates (undecodable bytes)": "Wer leitet \udcff\udcfe den Technologieinvestor Softbank?",
    "emoji": "🤖 Wer leitet den Technologieinvestor Softbank? 😀",
    "right-to-left Arabic": "من يقود شركة سوفت بنك؟",
    "right-to-left override": "\u202eWer leitet den Technologieinvestor Softbank?\u202c",
    "Japanese": "ソフトバンクの社長は誰ですか？",
    "HTML": "<b>Wer</b> leitet den <i>Technologieinvestor</i> Softbank?",
    "script tag": "<script>alert(document.cookie)</script> Wer leitet Softbank?",
    "img onerror": '<img src=x onerror="alert(1)"> Wer leitet Softbank?',
    "Markdown link and image": "[klick](javascript:alert(1)) ![x](http://127.0.0.1:9/x.png) Wer leitet?",
    "SQL": "'; DROP TABLE sentences; -- Wer leitet Softbank?",
    "SQL tautology": "1' OR '1'='1",
    "path traversal": "../../../../etc/passwd",
    "shell": "$(touch /tmp/rag-pwned) `id`; rm -rf / | cat /etc/shadow",
    "template syntax": "{{7*7}} ${7*7} {% raw %} Wer leitet Softbank?",
    "combining accents (NFC grows nothing)": "Wer leitet Softbank? " + "e\u0301" * 3000,
}


@pytest.mark.parametrize("question, message", REJECTED.values(), ids=REJECTED.keys())
def test_unaskable_questions_are_one_clear_error(article_pipeline, question, message) -> None:
    with pytest.raises(QuestionError, match=message):
        article_pipeline.ask(question)


@pytest.mark.parametrize("question", [None, 42, b"Wer leitet Softbank?", ["Wer?"]], ids=repr)
def test_a_question_that_is_not_text_is_a_clear_error(article_pipeline, question) -> None:
    with pytest.raises(QuestionError, match="must be text"):
        article_pipeline.ask(question)


@pytest.mark.parametrize("question", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_odd_questions_get_an_answer_or_a_refusal(article_pipeline, question) -> None:
    answer = article_pipeline.ask(question)
    assert answer.text
    assert answer.abstained == (not answer.citations)
    # What is searched and echoed back has no control characters or escape sequences left.
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in answer.question)
    assert "\x1b" not in answer.question and "\ufffd" not in answer.question
    assert len(answer.question) <= LIMIT
    answer.to_dict()  # and it serialises


def test_noise_is_removed_before_searching(article_pipeline) -> None:
    """Control characters, ANSI escapes and undecodable bytes do not change the answer."""
    clean = article_pipeline.ask("Wer leitet den Technologieinvestor Softbank?")
    for key in ("control characters and NUL", "ANSI colours", "lone surrogates (undecodable bytes)"):
        noisy = article_pipeline.ask(ACCEPTED[key])
        assert noisy.question == clean.question, key
        assert [c.sentence.text for c in noisy.citations] == [c.sentence.text for c in clean.citations]


def test_markup_is_kept_as_text_not_interpreted(article_pipeline) -> None:
    answer = article_pipeline.ask(ACCEPTED["script tag"])
    assert answer.question == ACCEPTED["script tag"]  # shown literally; rag/app/render.py escapes it


def test_a_200000_character_question_is_cut_to_the_limit_and_the_user_is_told(article_pipeline) -> None:
    question = "Wer leitet den Technologieinvestor Softbank? " * 4500
    assert len(question) > 200_000
    started = time.perf_counter()
    answer = article_pipeline.ask(question)
    assert time.perf_counter() - started < 10
    assert len(answer.question) <= LIMIT
    assert f"{len(question):,}" in answer.notice and f"{LIMIT:,}" in answer.notice
    assert answer.to_dict()["notice"] == answer.notice
    unbroken = article_pipeline.ask("x" * 200_000)  # no space to cut at
    assert len(unbroken.question) == LIMIT and unbroken.notice


def test_a_question_at_the_limit_is_not_cut(article_pipeline) -> None:
    question = ("Wer leitet Softbank? " * 200)[:LIMIT]
    answer = article_pipeline.ask(question)
    assert answer.notice == ""


def test_history_is_cleaned_like_a_question(article_pipeline) -> None:
    """The conversation history is user input too: junk in it is dropped, long items are cut."""
    first = "Wo hat Open AI sein erstes Auslandsbüro eröffnet?"
    good = article_pipeline.ask("Und wann war das?", [first])
    junk = [None, 5, b"x", "", "   ", "\x00", "?!", "\x1b[31m" + first + "\x1b[0m"]
    noisy = article_pipeline.ask("Und wann war das?", junk)
    assert noisy.retrieval_query == good.retrieval_query
    started = time.perf_counter()
    huge = article_pipeline.ask("Und wann war das?", [first + " Wort" * 60_000] * 50)
    assert time.perf_counter() - started < 10  # it took 9 s per item before history was cut
    assert len(huge.retrieval_query) < 2 * LIMIT + 100
    with pytest.raises(QuestionError, match="history"):
        article_pipeline.ask("Und wann war das?", 42)


def test_clean_question_and_clean_history_rules() -> None:
    assert clean_question("  a\u0301  b\tc \n", 100).text == "\u00e1 b c"  # NFC, spaces collapsed
    cut = clean_question("wort " * 100, 50)
    assert cut.truncated and len(cut.text) <= 50 and not cut.text.endswith(" ")
    assert clean_history(["a?", None, "", "b?"], 100) == ["a?", "b?"]
    assert clean_history("eine Frage", 100) == ["eine Frage"]
    assert clean_history(None, 100) == []
    assert clean_history([f"Frage {i}" for i in range(100)], 100) == [f"Frage {i}" for i in range(90, 100)]
    assert MAX_HISTORY == 10


# --- the command line -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_args(article_pipeline) -> list[str]:
    """--seeds/--index of the (already built) article index, so no test here builds one."""
    s = article_pipeline.settings
    return ["--seeds", str(s.seeds_dir), "--index", str(s.index_dir)]


@pytest.mark.parametrize(
    "question, message",
    [("", "empty"), ("   \t ", "empty"), ("?!...", "words"), ("\x1b[31m\x1b[0m", "empty"), ("😀😀", "words")],
    ids=["empty", "white space", "punctuation", "ANSI only", "emoji only"],
)
def test_cli_rejects_with_one_line_and_exit_2(cli_args, capsys, question, message) -> None:
    assert main(["ask", *cli_args, question]) == EXIT_USER_ERROR
    err = capsys.readouterr().err
    assert err.startswith("rag: error:") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "question",
    [ACCEPTED["ANSI colours"], ACCEPTED["SQL"], ACCEPTED["script tag"], ACCEPTED["Japanese"],
     ACCEPTED["right-to-left Arabic"], ACCEPTED["shell"]],
    ids=["ANSI", "SQL", "script", "Japanese", "Arabic", "shell"],
)
def test_cli_answers_or_refuses_odd_questions(cli_args, capsys, question) -> None:
    assert main(["ask", *cli_args, "--json", question]) == 0
    out, err = capsys.readouterr()
    assert err == "" and '"answer"' in out


def run_cli(args: list, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m rag.app.cli ...` with arguments as *bytes* (what a shell passes), output as bytes."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"}
    return subprocess.run(
        [os.fsencode(sys.executable), b"-m", b"rag.app.cli", *map(os.fsencode, args)],
        input=stdin, capture_output=True, timeout=300, env=env, cwd=cwd or ROOT,
    )


@pytest.mark.slow
def test_cli_invalid_utf8_argument_is_a_clean_error(cli_args, tmp_path) -> None:
    """`rag ask $'\\xff\\xfe'`: argv arrives with surrogateescape; one line and exit 2."""
    result = run_cli(["ask", *cli_args, b"\xff\xfe"], cwd=tmp_path)
    assert result.returncode == EXIT_USER_ERROR, result.stderr
    err = result.stderr.decode()
    assert err.startswith("rag: error:") and err.count("\n") == 1 and "Traceback" not in err
    assert result.stdout == b""


@pytest.mark.slow
def test_cli_invalid_utf8_inside_a_question_is_dropped(cli_args, tmp_path) -> None:
    result = run_cli(["ask", *cli_args, "--json", b"Wer leitet den \xff\xfe Technologieinvestor Softbank?"],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    import json

    data = json.loads(result.stdout)
    assert data["question"] == "Wer leitet den Technologieinvestor Softbank?"


@pytest.mark.slow
def test_cli_200000_characters_from_stdin_are_cut_and_reported(cli_args, tmp_path) -> None:
    """One argument may not exceed 128 KiB on Linux, so `rag ask -` reads the question from stdin."""
    question = ("Wer leitet den Technologieinvestor Softbank? " * 4500).encode()
    result = run_cli(["ask", *cli_args, "-"], stdin=question, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert out.startswith(f"(The question had {len(question):,} characters") and f"{LIMIT:,}" in out
    assert result.stderr == b""
    bad = run_cli(["ask", *cli_args, "-"], stdin=b"\xff\xfe\x00\x1b[0m", cwd=tmp_path)
    assert bad.returncode == EXIT_USER_ERROR
    assert bad.stderr.decode().count("\n") == 1 and b"Traceback" not in bad.stderr
