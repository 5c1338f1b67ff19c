"""Load source documents and split them into paragraphs, headings and sentences with offsets.

Sentence splitting uses SoMaJo (German ``de_CMC``, English ``en_PTB``): on the article it is the
one splitter that ends a sentence inside «...» correctly when another sentence follows, and it
knows abbreviations (z. B., Dr., u. a.) and ordinal dates (3. Oktober). Every sentence keeps its
character offsets into the *source file*, so a citation can be highlighted in place.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from rag.language import detect_language, get_language
from rag.records import Document, Sentence

SEED_SUFFIXES = (".txt", ".md")
# Sub-folders of seeds/ that hold question sets or notes, not documents.
NON_DOCUMENT_DIRS = {"eval"}
FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
FINAL_PUNCTUATION = tuple('.!?:;…»«"“”\'’)')
MAX_HEADING_CHARS = 160
# A document without front matter whose function words give no language is read as German,
# the bundled article's language.
FALLBACK_LANGUAGE = "de"


class DocumentError(ValueError):
    """A seed file cannot be used (unreadable, not UTF-8, empty); the message names the file."""


@dataclass(frozen=True)
class Block:
    """A paragraph or heading line: its text and where it stands in the source."""

    text: str
    start: int
    end: int
    is_heading: bool


def seed_files(seeds_dir: Path) -> list[Path]:
    """Every ``.txt``/``.md`` document below ``seeds_dir`` (question sets excluded), sorted."""
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise DocumentError(f"seeds folder not found: {seeds_dir}")
    root = seeds_dir.resolve()
    files = []
    for path in sorted(seeds_dir.rglob("*")):
        rel = path.relative_to(seeds_dir)
        if any(part in NON_DOCUMENT_DIRS or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in SEED_SUFFIXES:
            if not path.resolve().is_relative_to(root):
                # Documents are read only from the seeds folder, never through a link out of it.
                raise DocumentError(f"{path} links outside the seeds folder; copy the file in instead")
            files.append(path)
    return files


def seeds_fingerprint(seeds_dir: Path) -> str:
    """Hash of every document's relative path and bytes: changes whenever the corpus changes."""
    digest = hashlib.sha256()
    for path in seed_files(seeds_dir):
        digest.update(path.relative_to(seeds_dir).as_posix().encode())
        digest.update(b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError as exc:
            raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def parse_front_matter(text: str) -> tuple[dict[str, str], int]:
    """``key: value`` lines between ``---`` fences at the top; returns them and the body start."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip()
    return meta, match.end()


def load_document(path: Path, seeds_dir: Path | None = None) -> Document:
    """Read one seed file strictly as UTF-8; title and language come from front matter if any."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 and try again"
        ) from exc
    if text.startswith("\ufeff"):
        text = text[1:]  # offsets refer to the decoded text without the BOM
    meta, body_start = parse_front_matter(text)
    if not text[body_start:].strip():
        raise DocumentError(f"{path} has no text")
    rel = path.relative_to(seeds_dir) if seeds_dir else Path(path.name)
    doc_id = rel.with_suffix("").as_posix()
    title = meta.get("title") or path.stem.replace("-", " ").replace("_", " ").strip().capitalize()
    language = (meta.get("language") or guess_language(text[body_start:])).lower()
    return Document(
        doc_id=doc_id,
        title=title,
        language=language,
        path=str(path),
        text=text,
        content_hash=hashlib.sha256(raw).hexdigest(),
        body_start=body_start,
    )


def load_documents(seeds_dir: Path) -> list[Document]:
    """All documents of ``seeds_dir``; an empty folder is an error, not an empty index."""
    files = seed_files(seeds_dir)
    if not files:
        raise DocumentError(f"no .txt or .md documents in {seeds_dir}")
    return [load_document(path, Path(seeds_dir)) for path in files]


def guess_language(text: str) -> str:
    """The document's language from function words (``FALLBACK_LANGUAGE`` when they tie)."""
    return detect_language(text, default=FALLBACK_LANGUAGE)


def _line_spans(text: str, start: int) -> Iterator[tuple[int, int]]:
    for match in re.finditer(r"[^\r\n]+", text[start:]):
        yield start + match.start(), start + match.end()


def _is_heading(line: str, next_is_text: bool) -> bool:
    stripped = line.strip()
    if stripped.startswith("#"):
        return True
    return (
        next_is_text
        and len(stripped) <= MAX_HEADING_CHARS
        and not stripped.endswith(FINAL_PUNCTUATION)
    )


def split_blocks(doc: Document) -> list[Block]:
    """Paragraphs and headings of the body.

    A file with blank lines between paragraphs is read as blank-line blocks (hard-wrapped text);
    otherwise each line is a paragraph, as in the bundled article. A short line without final
    punctuation that is followed by text is a section heading.
    """
    text, body = doc.text, doc.body_start
    lines = [(s, e) for s, e in _line_spans(text, body) if text[s:e].strip()]
    has_blank_separators = re.search(r"\n[ \t]*\r?\n", text[body:].strip()) is not None
    groups: list[list[tuple[int, int]]] = []
    if has_blank_separators:
        current: list[tuple[int, int]] = []
        previous_end = None
        for s, e in lines:
            if previous_end is not None and text[previous_end:s].count("\n") > 1:
                groups.append(current)
                current = []
            current.append((s, e))
            previous_end = e
        if current:
            groups.append(current)
    else:
        groups = [[span] for span in lines]

    blocks: list[Block] = []
    for gi, group in enumerate(groups):
        first_s, first_e = group[0]
        first_line = text[first_s:first_e]
        # With blank-line paragraphs a heading is a block of its own (or a Markdown '#' line);
        # otherwise the first line of a hard-wrapped paragraph would pass for one.
        next_is_text = gi + 1 < len(groups) and (len(group) == 1 or not has_blank_separators)
        if _is_heading(first_line, next_is_text):
            h_start = first_s + (len(first_line) - len(first_line.lstrip(" \t#")))
            blocks.append(Block(text[h_start:first_e].strip(), h_start, first_e, True))
            group = group[1:]
        if group:
            s, e = group[0][0], group[-1][1]
            lead = len(text[s:e]) - len(text[s:e].lstrip())
            trail = len(text[s:e]) - len(text[s:e].rstrip())
            blocks.append(Block(text[s + lead : e - trail], s + lead, e - trail, False))
    return blocks


@lru_cache(maxsize=4)
def _somajo(model: str):  # noqa: ANN202 - SoMaJo has no public type
    from somajo import SoMaJo

    return SoMaJo(model, split_camel_case=False, character_offsets=True)


def split_sentences(paragraphs: list[str], language: str) -> list[list[tuple[int, int]]]:
    """Sentence spans (start, end) per paragraph, relative to each paragraph string."""
    tokenizer = _somajo(get_language(language).splitter_model)
    spans: list[list[tuple[int, int]]] = []
    for paragraph in paragraphs:
        spans.append(
            [
                (sentence[0].character_offset[0], sentence[-1].character_offset[1])
                for sentence in tokenizer.tokenize_text([paragraph])
            ]
        )
    return spans


def _sentence_text_fix(paragraph: str, start: int, end: int) -> tuple[int, int]:
    """Trim white space SoMaJo may include; keep closing quotes that belong to the sentence."""
    while start < end and paragraph[start].isspace():
        start += 1
    while end > start and paragraph[end - 1].isspace():
        end -= 1
    return start, end


def sentences_of(doc: Document, first_id: int = 0, teaser: bool | None = None) -> list[Sentence]:
    """Sentences of one document, numbered per paragraph, each with its section heading.

    The first paragraph counts as a teaser when the document has section headings later on
    (news articles); it is still quotable.
    """
    blocks = split_blocks(doc)
    paragraphs = [b for b in blocks if not b.is_heading]
    if teaser is None:
        teaser = any(b.is_heading for b in blocks) and bool(blocks) and not blocks[0].is_heading
    spans = split_sentences([p.text for p in paragraphs], doc.language)
    by_block = {id(p): s for p, s in zip(paragraphs, spans, strict=True)}

    sentences: list[Sentence] = []
    heading = ""
    paragraph_no = 0
    for block in blocks:
        if block.is_heading:
            heading = block.text
            continue
        paragraph_no += 1
        kind = "teaser" if teaser and paragraph_no == 1 else "body"
        for sentence_no, (s, e) in enumerate(by_block[id(block)], start=1):
            s, e = _sentence_text_fix(block.text, s, e)
            sentences.append(
                Sentence(
                    sentence_id=first_id + len(sentences),
                    doc_id=doc.doc_id,
                    paragraph=paragraph_no,
                    sentence=sentence_no,
                    text=block.text[s:e],
                    start=block.start + s,
                    end=block.start + e,
                    heading=heading,
                    kind=kind,
                )
            )
    return sentences


def sentences_of_all(docs: Iterable[Document]) -> list[Sentence]:
    """Sentences of several documents with ids unique across them."""
    out: list[Sentence] = []
    for doc in docs:
        out.extend(sentences_of(doc, first_id=len(out)))
    return out


def normalize_for_match(text: str) -> str:
    """NFC, case folding (ß -> ss) and collapsed white space: how answer strings are compared."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())
