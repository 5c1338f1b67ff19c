"""Overview questions ("Worum geht es?") are told apart from ordinary questions.

Both sets are measured: every overview phrasing must be detected and no ordinary question may
be taken for one (an ordinary question answered with an overview would lose its answer).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.answer.overview import is_overview_question

ROOT = Path(__file__).resolve().parents[2]

OVERVIEW = [
    "Worum geht es?",
    "Worum geht es im Artikel?",
    "Worum geht's in dem Text?",
    "Um was geht es hier?",
    "Fasse den Artikel zusammen",
    "Fass den Text kurz zusammen, bitte",
    "Kannst du den Artikel zusammenfassen?",
    "Zusammenfassung bitte",
    "Gib mir einen Überblick",
    "Wovon handelt der Text?",
    "Was ist das Thema des Artikels?",
    "What is this article about?",
    "What is this about?",
    "What's it about?",
    "Summarize the article",
    "Summarize",
    "Please summarise the text",
    "Give me a short summary",
    "Overview please",
    "What is the main topic of the article?",
    "What does the article say?",
    "TL;DR",
    # Any phrasing and any language the encoder reads (issue 21).
    "Gib mir bitte eine kurze Zusammenfassung.",
    "Kannst du mir eine Zusammenfassung geben?",
    "Summarize the article in a few sentences.",
    "Can you give me a brief overview?",
    "What are the key points?",
    "De quoi parle le texte ?",
    "Résume le texte en quelques phrases",
    "¿De qué trata el texto?",
    "Di cosa parla l'articolo?",
    "Waar gaat de tekst over?",
    "Resuma o artigo",
    "Podsumuj tekst",
    "О чём этот текст?",
    "Metni özetle",
    "لخص المقال",
    "这篇文章讲什么？",
    "この記事を要約して",
    "이 기사를 요약해 주세요",
    "สรุปบทความนี้ให้หน่อย",
]

ORDINARY = [
    "Worum geht es bei Stargate?",
    "Wer leitet den Technologieinvestor Softbank?",
    "Was ist Sakana AI?",
    "Welche vier Faktoren sprechen für Japan?",
    "Was steht im Koalitionsvertrag?",
    "Fasse die Regeln zur KI-Regulierung zusammen",
    "Was ist das Thema von Dengels Projekt in Osaka?",
    "What is Stargate about?",
    "What is the capital of France?",
    "Summarize the fines for repeat offenders",
    "What does Yuko Harayama warn about?",
    "Who is Yutaka Matsuo?",
    "What is the topic of the Osaka project?",
    "Give me an overview of the energy strategy",
    "Und warum?",
    "Why?",
    "Was ist die Kernaussage von Dengel?",
    "Zusammenfassung der Regeln für Bussgelder",
    "What are the key points of the Osaka project?",
    "Résume la stratégie de Softbank",
    "Qui dirige Softbank ?",
    "总结软银的投资",
]


def _rates() -> tuple[float, float]:
    found = sum(is_overview_question(q) for q in OVERVIEW) / len(OVERVIEW)
    false = sum(is_overview_question(q) for q in ORDINARY) / len(ORDINARY)
    return found, false


def test_overview_detection_rates() -> None:
    assert len(OVERVIEW) >= 12 and len(ORDINARY) >= 12
    found, false = _rates()
    missed = [q for q in OVERVIEW if not is_overview_question(q)]
    wrong = [q for q in ORDINARY if is_overview_question(q)]
    print(f"\noverview phrasings detected: {found:.0%} of {len(OVERVIEW)}; ordinary questions taken for "
          f"overview: {false:.0%} of {len(ORDINARY)}")
    assert not missed, missed
    assert not wrong, wrong


@pytest.mark.slow
def test_overview_answer_cites_title_lead_and_headings(article_pipeline) -> None:
    for question, lang in [("Worum geht es?", "de"), ("Summarize the article", "en")]:
        answer = article_pipeline.ask(question)
        assert not answer.abstained
        texts = [c.sentence.text for c in answer.citations]
        assert "Japans Aufholjagd bei der künstlichen Intelligenz" in texts[0]
        assert any("Wettrennen um die künstliche Intelligenz" in t for t in texts)
        assert "KI-Regulierung zwischen Europa und USA" in texts
        assert all(f"[{c.marker}]" in answer.text for c in answer.citations)
        assert answer.language == lang


# --- the overview answer itself, without the model (the slow test above asks the real pipeline) ---


def _corpus(tmp_path, texts: dict[str, str]):
    from rag.ingest import sentences_of
    from rag.ingest.files import load_document

    docs, sentences = [], []
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        doc = load_document(tmp_path / name, tmp_path)
        docs.append(doc)
        sentences += sentences_of(doc, first_id=len(sentences))
    return docs, sentences


def _assert_cited_in_order(answer, docs) -> None:
    """Markers 1..n in the text in order; each cited span is the source's own text."""
    by_id = {d.doc_id: d for d in docs}
    titles = {d.title for d in docs}
    at = -1
    for n, citation in enumerate(answer.citations, start=1):
        assert citation.marker == n and citation.doc_title in titles
        at = answer.text.index(f"[{n}]", at + 1)
        s = citation.sentence
        assert by_id[s.doc_id].text[s.start : s.end] == s.text


def test_overview_of_one_document_cites_its_title_lead_and_headings(tmp_path) -> None:
    from rag.answer.overview import overview_answer
    from rag.ingest import blocks_of

    article = (ROOT / "seeds" / "japan-ki-aufholjagd.txt").read_text("utf-8")
    docs, sentences = _corpus(tmp_path, {"artikel.txt": article})
    doc = docs[0]
    lead = [s for s in sentences if s.kind == "teaser"]
    heads = [b.text for b in blocks_of(doc) if b.is_heading]
    assert lead and len(heads) >= 2  # a news article: a teaser, then sections

    answer = overview_answer("Worum geht es?", docs, sentences, "de")
    cited = [c.sentence for c in answer.citations]
    assert [s.text for s in cited] == [doc.title] + [s.text for s in lead[:3]] + heads[:8]
    assert answer.text.startswith(f"Überblick über «{doc.title}» [1]: {lead[0].text} [2]")
    assert f" Abschnitte: {heads[0]} [{2 + len(lead[:3])}]; " in answer.text
    assert answer.text.endswith(".") and "\n" not in answer.text
    assert cited[0].start > 0 and cited[0].end <= doc.body_start  # the title in the front matter
    for heading in cited[1 + len(lead[:3]) :]:  # numbered as the paragraph it opens
        opened = next(s for s in sentences if s.start >= heading.end)
        assert heading.kind == "heading" and heading.paragraph == opened.paragraph
    assert not answer.abstained and answer.hits == () and answer.language == "de"
    _assert_cited_in_order(answer, docs)

    # An English question gets the same overview: a German document is framed in German.
    english = overview_answer("Summarize the article", docs, sentences, "en")
    assert english.text == answer.text and english.citations == answer.citations


def _reports(count: int) -> dict[str, str]:
    texts = {}
    for n in range(1, count + 1):
        sections = "".join(f"## Part {n}.{k}\n\nSection {k} of report {n} is short.\n\n"
                           for k in range(1, 11))
        texts[f"report-{n}.md"] = (f"# Report {n}\n\nFirst lead sentence {n}. Second lead sentence {n}. "
                                   f"Third lead sentence {n}. Fourth lead sentence {n}.\n\n{sections}")
    return texts


@pytest.mark.parametrize("count, lead, heads", [(1, 3, 8), (2, 2, 3), (3, 2, 1), (5, 1, 0), (7, 1, 0)])
def test_overview_limits_lead_and_headings_per_document_and_counts_the_rest(
    tmp_path, count, lead, heads
) -> None:
    """One document: 3 lead sentences and 8 headings; several share about 12 citations (title
    and at least one lead sentence each), at most 5 documents: five get 10 citations, not 35."""
    from rag.answer.overview import overview_answer

    docs, sentences = _corpus(tmp_path, _reports(count))
    answer = overview_answer("Summarize the documents", docs, sentences, "en", max_documents=5)
    lines = answer.text.split("\n")
    shown = min(count, 5)
    assert lines[shown:] == ([f"(+{count - 5})"] if count > 5 else [])
    ordinal = ["First", "Second", "Third", "Fourth"]
    for n, line in enumerate(lines[:shown], start=1):
        assert line.startswith(f"Overview of «Report {n}» [")
        assert f"{ordinal[lead - 1]} lead sentence {n}." in line and ordinal[lead] not in line
        if heads:  # the heading that repeats the title is left out
            assert f"Sections: Part {n}.1 [" in line and f"Report {n} [" not in line.split(":", 1)[1]
            assert f"Part {n}.{heads} [" in line and f"Part {n}.{heads + 1} " not in line
        else:
            assert "Sections:" not in line
    assert len(answer.citations) == shown * (1 + lead + heads) <= 12
    _assert_cited_in_order(answer, docs)


def test_overview_without_lead_or_headings_says_so_and_nothing_is_a_refusal(tmp_path) -> None:
    from rag.answer.overview import overview_answer

    docs, _ = _corpus(tmp_path, {"notiz.txt": "Nur ein Satz.\n"})
    bare = overview_answer("Worum geht es?", docs, [], "de")  # no sentences of it given
    assert bare.text == "Überblick über «Notiz» [1]: Das Dokument hat weder Einleitung noch Abschnitte."
    assert [c.sentence.text for c in bare.citations] == ["Notiz"] and not bare.abstained
    nothing = overview_answer("Worum geht es?", [], [], "de")
    assert nothing.abstained and nothing.citations == () and nothing.text == ""


def test_the_title_citation_points_at_the_title_itself(tmp_path) -> None:
    """The title is cited where it stands first (not a later mention in the body), as the
    document's title rather than a numbered sentence; a title that is not in the text (made
    from the file name) is cited with an empty span at the start."""
    from rag.answer.overview import overview_answer

    docs, sentences = _corpus(tmp_path, {
        "harbour.md": "# Harbour\n\nThe Harbour opened in 1850. Harbour ships still dock there.\n",
        "notiz.txt": "Nur ein Satz.\n",
    })
    answer = overview_answer("Summarize", docs, sentences, "en")
    titles = [next(c.sentence for c in answer.citations if c.sentence.doc_id == d.doc_id) for d in docs]
    harbour, notiz = titles
    assert [t.text for t in titles] == ["Harbour", "Notiz"]
    assert docs[0].text.index("Harbour") == harbour.start == 2 and harbour.end == 2 + len("Harbour")
    assert (notiz.start, notiz.end) == (0, 0) and "Notiz" not in docs[1].text
    for title in titles:
        assert (title.sentence_id, title.paragraph, title.sentence) == (-1, 0, 0)
        assert (title.heading, title.kind, title.page) == ("", "heading", None)


def test_overview_framing_fields_and_a_document_with_lead_but_no_sections(tmp_path) -> None:
    """Lead sentences follow each other with their markers; a document with a lead but no
    section headings gets no "has neither" sentence; a language without its own words gets the
    English ones; the answer keeps the question and claims no retrieval."""
    from rag.answer.overview import overview_answer

    docs, sentences = _corpus(tmp_path, {
        "ferry.txt": "The ferry leaves at noon. It returns at six. Tickets cost ten euros.\n",
    })
    answer = overview_answer("Résume le texte", docs, sentences, "fr")
    assert answer.text == ("Overview of «Ferry» [1]: The ferry leaves at noon. [2] It returns at six. [3] "
                           "Tickets cost ten euros. [4]")
    assert answer.question == "Résume le texte" and answer.retrieval_query == "" and answer.hits == ()
    assert [c.score for c in answer.citations] == [1.0] * 4
    # The framing follows the document's language, not the question's.
    german = overview_answer("Worum geht es?", docs, sentences, "de")
    assert german.text.startswith("Overview of «Ferry» [1]: ") and german.language == "de"


@pytest.mark.parametrize("question", [
    "Gib mir bitte eine kurze Zusammenfassung.",
    "Summarize the article in a few sentences.",
    "De quoi parle le texte ?",
])
def test_summary_requests_get_the_overview_in_each_documents_language(tmp_path, question) -> None:
    """Through the pipeline (fake encoder), in three languages: the overview, with a German
    document framed in German and an English one in English, whatever the question's language."""
    from conftest import FakeEncoder

    from rag.config import Settings
    from rag.pipeline import Pipeline

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "hafen.md").write_text(
        "# Der Hafen\n\nDer Hafen wurde 1850 eröffnet. Er ist der grösste im Land.\n\n"
        "## Schiffe\n\nHeute legen dort täglich Schiffe an.\n", encoding="utf-8")
    (seeds / "ferry.md").write_text(
        "# The ferry\n\nThe ferry leaves at noon. It returns at six.\n\n"
        "## Tickets\n\nTickets cost ten euros.\n", encoding="utf-8")
    pipeline = Pipeline.open(Settings(seeds_dir=seeds, index_dir=tmp_path / "index"),
                             encoder=FakeEncoder(), progress=False, on_status=lambda m: None)
    answer = pipeline.ask(question)
    assert not answer.abstained and answer.notice == "", answer
    lines = answer.text.split("\n")
    assert sorted(line.split(" «")[0] for line in lines) == ["Overview of", "Überblick über"], lines
    german = next(line for line in lines if "Hafen" in line)
    english = next(line for line in lines if "ferry" in line)
    assert "Abschnitte: Schiffe" in german and "Sections: Tickets" in english
    assert "Overview" not in german and "Überblick" not in english and "Abschnitte" not in english
    assert len(answer.citations) <= 12
