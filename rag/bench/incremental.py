"""`rag bench --incremental`: what a build costs after adding, changing or removing one document.

Incremental builds (:mod:`rag.index.reuse`) embed only the documents whose texts changed; this
measures how much that saves on a corpus of generated German documents (default 100, each about
the bundled article's size: 60 sentences in paragraphs of 2-5, ~8 KB) with the real model. Each
step is timed the way ``rag add`` / ``rag remove`` run it: :func:`rag.index.store.ensure_index`
noticing the changed folder, reading the documents, building and loading (the encoder is loaded
once before, so no step pays for loading the model). Everything happens in a temporary folder.

Example::

    result = bench_incremental(documents=100)
    print(format_incremental(result))
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SENTENCES_PER_DOCUMENT = 60

_CITIES = (
    "Basel Bern Zürich Luzern Genf Lausanne Lugano Chur Aarau Winterthur Freiburg Konstanz "
    "München Hamburg Leipzig Dresden Köln Bremen Graz Linz Salzburg Innsbruck Wien Kassel"
).split()
_SUBJECTS = (
    "Die Stadtverwaltung von {city}", "Der Verwaltungsrat der {firm}", "Eine Forscherin aus {city}",
    "Der Gemeinderat", "Die Kantonsregierung", "Ein Sprecher der {firm}", "Die Gewerkschaft",
    "Der Verband der Bauern in {city}", "Die Direktorin des Museums", "Ein Ingenieur der {firm}",
    "Die Polizei von {city}", "Der Schulrat", "Eine Gruppe von Studierenden", "Die Feuerwehr",
)
_VERBS = (
    "kündigte {when} an, dass {clause}", "teilte {when} mit, dass {clause}",
    "bestätigte {when}, dass {clause}", "warnt davor, dass {clause}",
    "hofft, dass {clause}", "rechnet damit, dass {clause}", "erklärte {when}, warum {clause}",
)
_CLAUSES = (
    "die Kosten für {thing} um {n} Prozent steigen", "{n} neue Stellen im Bereich {field} entstehen",
    "der Bau von {thing} bis {year} dauern wird", "die Nachfrage nach {thing} deutlich gesunken ist",
    "{thing} im Sommer {year} eröffnet werden soll", "rund {n} Millionen Franken in {field} fliessen",
    "die Zahl der Besucher auf {n}000 gestiegen ist", "{thing} wegen {cause} geschlossen bleibt",
    "die Fachleute für {field} dringend gesucht werden", "der Plan für {thing} überarbeitet wird",
)
_THINGS = (
    "die neue Brücke", "das Hallenbad", "den Bahnhof", "die Stadtbibliothek", "das Kraftwerk",
    "die Umfahrungsstrasse", "das Spital", "den Flughafen", "die Seilbahn", "das Rechenzentrum",
    "die Kläranlage", "das Stadion", "den Hafen", "die Markthalle", "das Gymnasium",
)
_FIELDS = (
    "Pflege", "Informatik", "Energie", "Landwirtschaft", "Tourismus", "Logistik", "Bildung",
    "Forschung", "Maschinenbau", "Gastronomie", "Holzbau", "Medizintechnik",
)
_CAUSES = (
    "eines Wasserschadens", "fehlender Mittel", "einer Sanierung", "des Personalmangels",
    "eines Rechtsstreits", "neuer Vorschriften", "des Hochwassers",
)
_WHEN = ("am Montag", "am Dienstag", "gestern", "in einer Mitteilung", "vor den Medien", "am Abend")
_FIRMS = (
    "Nordwerk AG", "Alpenstrom", "Seetal Bau", "Rheinlogistik", "Helvetia Daten", "Bergholz",
    "Jura Medtech", "Limmat Energie", "Donau Mühlen", "Inntal Bahn",
)
_TAILS = (
    ", wie die Zeitung in {city} am Wochenende berichtete", ", obwohl der Kanton zuvor {n} Einwände hatte",
    ", was die Opposition im Parlament von {city} scharf kritisiert", ", sagte ein Sprecher der {firm}",
    ", nachdem die Fachleute für {field} ein Gutachten vorgelegt hatten",
    ", und zwar spätestens im Herbst {year}",
)
_OTHER = (
    "Im Jahr {year} lebten in {city} rund {n}000 Menschen.",
    "Kritiker bemängeln, dass {thing} zu teuer sei.",
    "Bis {year} sollen in {city} {n} weitere Projekte folgen.",
    "Die Bevölkerung von {city} stimmte mit {n} Prozent zu.",
    "Nach Angaben der {firm} arbeiten dort {n} Personen im Bereich {field}.",
    "Ob {thing} rechtzeitig fertig wird, ist noch offen.",
)


def _fill(pattern: str, rng: random.Random, city: str, firm: str) -> str:
    return pattern.format(
        city=city, firm=firm, when=rng.choice(_WHEN), thing=rng.choice(_THINGS), field=rng.choice(_FIELDS),
        cause=rng.choice(_CAUSES), n=rng.randint(2, 95), year=rng.randint(2019, 2034),
        clause="{clause}",
    )


def german_sentence(rng: random.Random, city: str, firm: str) -> str:
    """One varied German news sentence about ``city`` and ``firm``."""
    if rng.random() < 0.25:
        return _fill(rng.choice(_OTHER), rng, city, firm)
    subject = _fill(rng.choice(_SUBJECTS), rng, city, firm)
    verb = _fill(rng.choice(_VERBS), rng, city, firm)
    clause = _fill(rng.choice(_CLAUSES), rng, city, firm)
    tail = _fill(rng.choice(_TAILS), rng, city, firm) if rng.random() < 0.9 else ""
    return f"{subject} {verb.replace('{clause}', clause)}{tail}."


def document_text(number: int, sentences: int = SENTENCES_PER_DOCUMENT, variant: int = 0) -> str:
    """A generated German document (front matter, one paragraph of 2-5 sentences a line).

    The same ``number`` and ``variant`` always give the same text; another ``variant`` another.
    """
    rng = random.Random(number * 1009 + variant)
    city, firm = _CITIES[number % len(_CITIES)], rng.choice(_FIRMS)
    lines, left = [], sentences
    while left > 0:
        size = min(left, rng.randint(2, 5))
        lines.append(" ".join(german_sentence(rng, city, firm) for _ in range(size)))
        left -= size
    front = f"---\ntitle: Bericht {number} aus {city}\nlanguage: de\n---\n"
    return front + "\n".join(lines) + "\n"


def write_corpus(folder: Path, documents: int, sentences: int = SENTENCES_PER_DOCUMENT) -> list[Path]:
    """``documents`` generated files ``bericht-NNN.txt`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(documents):
        path = folder / f"bericht-{number:03d}.txt"
        path.write_text(document_text(number, sentences), encoding="utf-8")
        paths.append(path)
    return paths


def bench_incremental(
    documents: int = 100,
    model: str | None = None,
    threads: int | None = None,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> dict[str, Any]:
    """Seconds for a full build, then for adding, changing and removing one document."""
    from rag.config import default_settings, index_location
    from rag.index.encoders import build_encoder
    from rag.index.store import ensure_index

    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-incremental-"))
    try:
        seeds = tmp / "seeds"
        paths = write_corpus(seeds, documents)
        settings = default_settings(seeds_dir=seeds, index_dir=tmp / "index", model=model, threads=threads)
        encoder = build_encoder(settings.model, settings.threads)
        encoder.encode(["Ein Satz zum Aufwärmen."] * 8)  # first-call allocations are no build's cost

        def step(name: str) -> dict[str, Any]:
            log(f"bench: {name}")
            started = time.perf_counter()
            index, built = ensure_index(*index_location(settings), lambda: encoder,
                lambda m: None, progress=False,
            )
            seconds = time.perf_counter() - started
            if built is None:
                raise RuntimeError(f"{name}: the index was not rebuilt")
            return {
                "seconds": round(seconds, 2),
                "build_seconds": index.manifest["build_seconds"],
                "documents": index.manifest["counts"]["documents"],
                "sentences": index.manifest["counts"]["sentences"],
                "chunks": index.manifest["counts"]["chunks"],
                **index.manifest["embedding"],
            }

        full = step(f"full build of {documents} generated documents")
        (seeds / "bericht-neu.txt").write_text(document_text(documents), encoding="utf-8")
        added = step("one document added")
        paths[0].write_text(document_text(0, variant=1), encoding="utf-8")
        changed = step("one document changed")
        paths[1].unlink()
        removed = step("one document removed")
        result: dict[str, Any] = {"full": full, "add": added, "change": changed, "remove": removed}
        result["ratio_full_to_add"] = round(full["seconds"] / max(added["seconds"], 1e-9), 1)
        result["model"] = settings.model
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def format_incremental(result: dict[str, Any]) -> str:
    """The table ``rag bench --incremental`` prints."""
    full = result["full"]
    lines = [
        f"incremental index ({full['documents']} generated documents, {full['sentences']} sentences, "
        f"{full['chunks']} chunks, model {result['model']})",
        f"{'step':<26}{'seconds':>9}{'build s':>9}{'docs embedded':>15}{'docs reused':>13}"
        f"{'texts embedded':>16}",
    ]
    for key, label in (("full", "full build"), ("add", "add one document"),
                       ("change", "change one document"), ("remove", "remove one document")):
        e = result[key]
        lines.append(f"{label:<26}{e['seconds']:>9.2f}{e['build_seconds']:>9.2f}{e['documents_embedded']:>15}"
                     f"{e['documents_reused']:>13}{e['texts_embedded']:>16}")
    lines.append(f"full build / add one document: {result['ratio_full_to_add']}x")
    return "\n".join(lines)
