"""The chunks in Qdrant's engine: in this process with ``qdrant-edge-py`` (a laptop, CI), or on a
Qdrant cluster through ``qdrant-client`` (shards, replicas, many writers).

One point per chunk: a dense vector ``dense`` (dot product over our L2-normalised vectors, so
they are stored bit for bit) and one sparse vector ``bm25-<language>`` per document language
holding our analyzer's BM25 term factors (:mod:`rag.search.sparse`), the engine applying the IDF.
The payload names the document and its language. Point ids are stable keys of a chunk's
document and text (:func:`point_key`), so a rebuild that keeps a document keeps its points:
adding and removing documents are upserts and deletes. The build's chunk table maps keys to
chunk ids (``point_keys.npy``).

Both transports are imported only when this backend is chosen (``--backend qdrant``): the
default path never imports qdrant.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from rag.config import IndexTuning
from rag.records import Chunk, Sentence
from rag.search.backend import (
    QDRANT,
    BackendUnavailable,
    CandidateQuery,
    Candidates,
    ChunkEntry,
    QueryTerms,
)
from rag.search.sparse import SparseBM25, bm25_vector, query_vector, term_index

DENSE = "dense"
EDGE = "edge"
REMOTE = "remote"
SHARD_FOLDER = "qdrant"
KEYS_FILE = "point_keys.npy"
EXTRA = "rag[qdrant]"


def sparse_name(language: str) -> str:
    """The sparse vector of a language part."""
    return f"bm25-{language}"


def point_key(chunk: Chunk) -> int:
    """A chunk's point id: 63 bits of a hash of its document, place and text (the same for the
    same chunk of an unchanged document in every build)."""
    text = f"{chunk.doc_id}\0{chunk.paragraph}\0{chunk.start}\0{chunk.end}\0{chunk.text}"
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "little") >> 1


def missing_extra(package: str) -> BackendUnavailable:
    return BackendUnavailable(
        f"--backend qdrant needs the optional package {package}: pip install '{EXTRA}' "
        f"(in this checkout: .venv/bin/pip install -e '.[qdrant]')"
    )


@dataclass(frozen=True)
class PointData:
    """One chunk as written: key, vector, its language's sparse BM25, payload."""

    key: int
    vector: np.ndarray
    language: str
    sparse: SparseBM25
    doc_id: str


class Transport(Protocol):
    """The calls the backend makes of Qdrant, whichever way it is reached."""

    kind: str

    def create(
        self, dimension: int, languages: Sequence[str], tuning: IndexTuning, n_points: int
    ) -> None: ...

    def upsert(self, points: Sequence[PointData]) -> None: ...

    def delete(self, keys: Sequence[int]) -> None: ...

    def delete_document(self, doc_id: str) -> None: ...

    def dense(
        self, vector: np.ndarray, limit: int, exclude: Sequence[int], ef: int
    ) -> list[tuple[int, float]]: ...

    def sparse(self, language: str, query: SparseBM25, limit: int, only: Sequence[int] | None,
               exclude: Sequence[int]) -> list[tuple[int, float]]: ...

    def vectors(self, keys: Sequence[int]) -> dict[int, list[float]]: ...

    def count(self) -> int: ...

    def finish(self) -> None:
        """After a bulk write: build the engine's indexes and make it durable."""
        ...

    def close(self) -> None: ...


class EdgeTransport:
    """Qdrant Edge (``qdrant-edge-py``): the engine's Rust core in this process, one shard in a
    folder of the build."""

    kind = EDGE

    def __init__(self, path: Path) -> None:
        try:
            import qdrant_edge
        except ImportError as exc:
            raise missing_extra("qdrant-edge-py") from exc
        self._q = qdrant_edge
        self.path = Path(path)
        self._shard: Any = None

    def open(self) -> EdgeTransport:
        self._shard = self._q.EdgeShard.load(str(self.path))
        return self

    def create(self, dimension: int, languages: Sequence[str], tuning: IndexTuning, n_points: int) -> None:
        q = self._q
        quantise = n_points >= tuning.quantise_from
        config = q.EdgeConfig(
            vectors={DENSE: q.EdgeVectorParams(
                size=dimension, distance=q.Distance.Dot, on_disk=quantise or None,
                quantization_config=(
                    q.ScalarQuantizationConfig(q.ScalarType.Int8, always_ram=True) if quantise else None
                ),
            )},
            sparse_vectors={sparse_name(lang): q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)
                            for lang in languages},
            hnsw_config=q.HnswIndexConfig(
                m=tuning.hnsw_m, ef_construct=tuning.hnsw_ef_construction,
                full_scan_threshold=tuning.qdrant_full_scan_kb,
            ),
        )
        self._shard = q.EdgeShard.create(str(self.path), config)

    def _point(self, p: PointData) -> Any:
        q = self._q
        return q.Point(
            id=p.key,
            vector={DENSE: p.vector.tolist(),
                    sparse_name(p.language): q.SparseVector(indices=list(p.sparse.indices),
                                                            values=list(p.sparse.values))},
            payload={"doc_id": p.doc_id, "language": p.language},
        )

    def upsert(self, points: Sequence[PointData]) -> None:
        self._shard.update(self._q.UpdateOperation.upsert_points([self._point(p) for p in points]))

    def delete(self, keys: Sequence[int]) -> None:
        if keys:
            self._shard.update(self._q.UpdateOperation.delete_points([int(k) for k in keys]))

    def delete_document(self, doc_id: str) -> None:
        q = self._q
        self._shard.update(q.UpdateOperation.delete_points_by_filter(
            q.Filter(must=[q.FieldCondition(key="doc_id", match=q.MatchValue(value=doc_id))])
        ))

    def _filter(self, only: Sequence[int] | None, exclude: Sequence[int]) -> Any:
        q = self._q
        if only is None and not exclude:
            return None
        return q.Filter(
            must=[q.HasIdCondition(point_ids={int(k) for k in only})] if only is not None else None,
            must_not=[q.HasIdCondition(point_ids={int(k) for k in exclude})] if exclude else None,
        )

    def dense(
        self, vector: np.ndarray, limit: int, exclude: Sequence[int], ef: int
    ) -> list[tuple[int, float]]:
        q = self._q
        found = self._shard.query(q.QueryRequest(
            limit=limit, query=q.Query.Nearest(np.asarray(vector, np.float32).tolist(), using=DENSE),
            filter=self._filter(None, exclude), params=q.SearchParams(hnsw_ef=ef), with_payload=False,
        ))
        return [(int(p.id), float(p.score)) for p in found]

    def sparse(self, language: str, query: SparseBM25, limit: int, only: Sequence[int] | None,
               exclude: Sequence[int]) -> list[tuple[int, float]]:
        q = self._q
        found = self._shard.query(q.QueryRequest(
            limit=limit,
            query=q.Query.Nearest(q.SparseVector(indices=list(query.indices), values=list(query.values)),
                                  using=sparse_name(language)),
            filter=self._filter(only, exclude), with_payload=False,
        ))
        return [(int(p.id), float(p.score)) for p in found]

    def vectors(self, keys: Sequence[int]) -> dict[int, list[float]]:
        records = self._shard.retrieve([int(k) for k in keys], with_payload=False, with_vector=[DENSE])
        return {int(r.id): r.vector[DENSE] for r in records}

    def count(self) -> int:
        return int(self._shard.count(self._q.CountRequest()))

    def finish(self) -> None:
        self._shard.optimize()
        self._shard.flush()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None


class RemoteTransport:
    """A Qdrant service through ``qdrant-client`` (a URL; ``":memory:"`` is the client's own
    in-process stand-in, used by the tests)."""

    kind = REMOTE

    def __init__(self, url: str, collection: str, timeout: float = 60.0, client: Any = None) -> None:
        try:
            from qdrant_client import QdrantClient, models
        except ImportError as exc:
            raise missing_extra("qdrant-client") from exc
        self._m = models
        self.url = url
        self.collection = collection
        if client is not None:  # one client for several collections (tests)
            self.client = client
        elif url == ":memory:":
            self.client = QdrantClient(location=url)
        else:
            self.client = QdrantClient(url=url, timeout=int(timeout))

    def create(self, dimension: int, languages: Sequence[str], tuning: IndexTuning, n_points: int) -> None:
        m = self._m
        quantise = n_points >= tuning.quantise_from
        self.client.create_collection(
            self.collection,
            vectors_config={DENSE: m.VectorParams(size=dimension, distance=m.Distance.DOT, on_disk=quantise)},
            sparse_vectors_config={sparse_name(lang): m.SparseVectorParams(modifier=m.Modifier.IDF)
                                   for lang in languages},
            hnsw_config=m.HnswConfigDiff(m=tuning.hnsw_m, ef_construct=tuning.hnsw_ef_construction),
            quantization_config=(
                m.ScalarQuantization(
                    scalar=m.ScalarQuantizationConfig(type=m.ScalarType.INT8, always_ram=True)
                )
                if quantise else None
            ),
        )

    def upsert(self, points: Sequence[PointData]) -> None:
        m = self._m
        self.client.upsert(self.collection, points=[
            m.PointStruct(
                id=p.key,
                vector={DENSE: p.vector.tolist(),
                        sparse_name(p.language): m.SparseVector(indices=list(p.sparse.indices),
                                                                values=list(p.sparse.values))},
                payload={"doc_id": p.doc_id, "language": p.language},
            ) for p in points
        ], wait=True)

    def delete(self, keys: Sequence[int]) -> None:
        if keys:
            selector = self._m.PointIdsList(points=[int(k) for k in keys])
            self.client.delete(self.collection, points_selector=selector, wait=True)

    def delete_document(self, doc_id: str) -> None:
        m = self._m
        self.client.delete(self.collection, points_selector=m.FilterSelector(filter=m.Filter(
            must=[m.FieldCondition(key="doc_id", match=m.MatchValue(value=doc_id))])), wait=True)

    def _filter(self, only: Sequence[int] | None, exclude: Sequence[int]) -> Any:
        m = self._m
        if only is None and not exclude:
            return None
        return m.Filter(
            must=[m.HasIdCondition(has_id=[int(k) for k in only])] if only is not None else None,
            must_not=[m.HasIdCondition(has_id=[int(k) for k in exclude])] if exclude else None,
        )

    def dense(
        self, vector: np.ndarray, limit: int, exclude: Sequence[int], ef: int
    ) -> list[tuple[int, float]]:
        # The in-memory stand-in scans every vector and warns about search parameters.
        params = self._m.SearchParams(hnsw_ef=ef) if self.url != ":memory:" else None
        found = self.client.query_points(
            self.collection, query=np.asarray(vector, np.float32).tolist(), using=DENSE, limit=limit,
            query_filter=self._filter(None, exclude), search_params=params, with_payload=False,
        )
        return [(int(p.id), float(p.score)) for p in found.points]

    def sparse(self, language: str, query: SparseBM25, limit: int, only: Sequence[int] | None,
               exclude: Sequence[int]) -> list[tuple[int, float]]:
        sparse = self._m.SparseVector(indices=list(query.indices), values=list(query.values))
        found = self.client.query_points(
            self.collection, query=sparse,
            using=sparse_name(language), limit=limit, query_filter=self._filter(only, exclude),
            with_payload=False,
        )
        return [(int(p.id), float(p.score)) for p in found.points]

    def vectors(self, keys: Sequence[int]) -> dict[int, list[float]]:
        records = self.client.retrieve(self.collection, ids=[int(k) for k in keys], with_vectors=[DENSE])
        return {int(r.id): r.vector[DENSE] for r in records}

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def finish(self) -> None:
        pass  # the service indexes in the background; upserts waited for

    def switch_alias(self, alias: str) -> None:
        """Point ``alias`` at this collection in one step (what a full rebuild does)."""
        m = self._m
        existing = {a.alias_name for a in self.client.get_aliases().aliases}
        changes: list[Any] = []
        if alias in existing:
            changes.append(m.DeleteAliasOperation(delete_alias=m.DeleteAlias(alias_name=alias)))
        changes.append(m.CreateAliasOperation(create_alias=m.CreateAlias(
            collection_name=self.collection, alias_name=alias)))
        self.client.update_collection_aliases(change_aliases_operations=changes)

    def drop(self) -> None:
        self.client.delete_collection(self.collection)

    def close(self) -> None:
        self.client.close()


class KeyMap:
    """Chunk ids <-> point keys: a key per chunk id (0: none), and the keys sorted for lookups."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = np.asarray(keys, np.uint64)
        self._order = np.argsort(self.keys, kind="stable")
        self._sorted = self.keys[self._order]

    def key(self, chunk_id: int) -> int:
        return int(self.keys[chunk_id])

    def keys_of(self, ids: Sequence[int] | np.ndarray) -> list[int]:
        return self.keys[np.asarray(ids, np.int64)].tolist()

    def ids_of(self, keys: Sequence[int]) -> np.ndarray:
        """Chunk ids of ``keys`` (-1 for a key this table does not hold)."""
        wanted = np.asarray(keys, np.uint64)
        at = np.searchsorted(self._sorted, wanted)
        at = np.minimum(at, max(len(self._sorted) - 1, 0))
        if not len(self._sorted):
            return np.full(len(wanted), -1, np.int64)
        found = self._sorted[at] == wanted
        return np.where(found & (wanted != 0), self._order[at], -1).astype(np.int64)


class QdrantBackend:
    """Candidates, BM25 and vectors from Qdrant's engine; records from the build's tables.

    Example::

        backend = QdrantBackend(EdgeTransport(folder / "qdrant").open(), keys, chunks, sentences, ["de"], 512)
        backend.candidates(CandidateQuery(vector, {"de": ["softbank"]}, 50))
    """

    name = QDRANT

    def __init__(
        self,
        transport: Transport,
        keys: np.ndarray,
        chunks: Sequence[Chunk],
        sentences: Sequence[Sentence],
        languages: Sequence[str],
        dimension: int,
        avgdl: Mapping[str, float] | None = None,
        tuning: IndexTuning | None = None,
        described: Mapping[str, Any] | None = None,
        rows: Any = None,
    ) -> None:
        self.transport = transport
        # The build's exact float32 chunk vectors by chunk id (a RowFile of chunk_vectors.npy),
        # the same bits the engine holds: reading a row costs ~1 us, through the engine's Python
        # objects ~25 us (2.5 ms for a question's 100 candidates). None: from the engine.
        self._rows = rows
        self._map = KeyMap(keys)
        self._chunks: dict[int, Chunk] | Sequence[Chunk] = chunks
        self._sentences = sentences
        self._languages = tuple(sorted(languages))
        self._dimension = int(dimension)
        self.avgdl = dict(avgdl or {})
        self.tuning = tuning or IndexTuning()
        self._described = dict(described or {})

    @classmethod
    def of(
        cls, transport: Transport, entries: Sequence[ChunkEntry], tuning: IndexTuning | None = None
    ) -> QdrantBackend:
        """A new collection (or shard) holding ``entries`` (tests, benchmarks; a build uses
        :func:`rag.search.qdrant_build.write_qdrant`)."""
        from rag.index.lexical import analyzer_for
        from rag.search.sparse import average_length

        tuning = tuning or IndexTuning()
        languages = sorted({e.language for e in entries})
        terms = [analyzer_for(e.language).terms(e.chunk.text) for e in entries]
        avgdl = {lang: average_length([t for t, e in zip(terms, entries, strict=True) if e.language == lang])
                 for lang in languages}
        dimension = len(entries[0].vector)
        transport.create(dimension, languages, tuning, len(entries))
        points = [point_data(e, avgdl[e.language], t) for e, t in zip(entries, terms, strict=True)]
        for begin in range(0, len(points), tuning.qdrant_batch):
            transport.upsert(points[begin : begin + tuning.qdrant_batch])
        transport.finish()
        keys = np.zeros(max(e.chunk.chunk_id for e in entries) + 1, np.uint64)
        chunks: dict[int, Chunk] = {}
        for entry, point in zip(entries, points, strict=True):
            keys[entry.chunk.chunk_id] = point.key
            chunks[entry.chunk.chunk_id] = entry.chunk
        backend = cls(transport, keys, [], [], languages, dimension, avgdl, tuning)
        backend._chunks = chunks
        return backend

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def size(self) -> int:
        return int(np.count_nonzero(self._map.keys))

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def _ids(self, found: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
        ids = self._map.ids_of([k for k, _ in found])
        scores = np.asarray([s for _, s in found], np.float32)
        keep = ids >= 0  # a point another writer added that this build's table does not hold
        return ids[keep], scores[keep]

    def candidates(self, query: CandidateQuery) -> Candidates:
        timings: dict[str, float] = {}
        exclude = self._map.keys_of(sorted(query.withheld)) if query.withheld else []
        started = time.perf_counter()
        dense_ids: np.ndarray = np.zeros(0, np.int64)
        if query.dense and query.k > 0:
            found = self.transport.dense(query.vector, query.k, exclude, self.tuning.hnsw_ef_search)
            dense_ids, _ = self._ids(found)
        timings["dense"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        lexical_ids: list[np.ndarray] = []
        known = False
        if query.lexical and query.k > 0:
            for lang in self._languages:
                terms = list(query.terms.get(lang, ()))
                if not terms:
                    continue
                ids, _ = self._ids(self.transport.sparse(lang, query_vector(terms), query.k, None, exclude))
                lexical_ids.append(ids)
            known = self.knows_any(query.terms) if query.withheld else any(len(i) for i in lexical_ids)
        ids = np.unique(np.concatenate([dense_ids, *lexical_ids])).astype(np.int64)
        lexical = self.lexical_scores(query.terms, ids) if known else None
        timings["lexical"] = (time.perf_counter() - started) * 1000
        return Candidates(ids, tuple(int(i) for i in dense_ids), lexical, timings)

    def lexical_scores(self, terms: QueryTerms, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        out = np.zeros(len(ids), np.float32)
        if not len(ids):
            return out
        keys = self._map.keys_of(ids)
        position = {int(i): n for n, i in enumerate(ids.tolist())}
        for lang in self._languages:
            wanted = list(terms.get(lang, ()))
            if not wanted:
                continue
            found, scores = self._ids(self.transport.sparse(lang, query_vector(wanted), len(ids), keys, []))
            for chunk_id, score in zip(found.tolist(), scores.tolist(), strict=True):
                out[position[chunk_id]] = score
        return out

    def knows_any(self, terms: QueryTerms) -> bool:
        return any(
            self.transport.sparse(lang, query_vector(list(terms[lang])), 1, None, [])
            for lang in self._languages if terms.get(lang)
        )

    def holds_term(self, language: str, term: str, withheld: frozenset[int] = frozenset()) -> bool:
        if language not in self._languages:
            return False
        exclude = self._map.keys_of(sorted(withheld)) if withheld else []
        single = SparseBM25((term_index(term),), (1.0,))
        return bool(self.transport.sparse(language, single, 1, None, exclude))

    def chunk_vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        if self._rows is not None:
            return np.asarray(self._rows[ids], np.float32)
        keys = self._map.keys_of(ids)
        found = self.transport.vectors(keys)
        out = np.empty((len(ids), self._dimension), np.float32)
        for n, key in enumerate(keys):
            out[n] = found[int(key)]
        return out

    def chunks(self, ids: Sequence[int]) -> list[Chunk]:
        return [self._chunks[int(i)] for i in ids]

    def sentences(self, ids: Sequence[int]) -> list[Sentence]:
        return [self._sentences[int(i)] for i in ids]

    def upsert(self, doc_id: str, entries: Sequence[ChunkEntry]) -> None:
        """Replace a document's points; its chunk ids become those of ``entries``. New texts
        use the part's average length of the last full build (``avgdl``)."""
        self.delete(doc_id)
        points = [point_data(e, self.avgdl.get(e.language) or 1.0) for e in entries]
        if any(e.language not in self._languages for e in entries):
            raise ValueError("a new language needs a full rebuild (its sparse vector is part of the schema)")
        self.transport.upsert(points)
        top = max([len(self._map.keys) - 1, *(e.chunk.chunk_id for e in entries)])
        keys = np.zeros(top + 1, np.uint64)
        keys[: len(self._map.keys)] = self._map.keys
        chunks = dict(enumerate(self._chunks)) if not isinstance(self._chunks, dict) else dict(self._chunks)
        for entry, point in zip(entries, points, strict=True):
            keys[entry.chunk.chunk_id] = point.key
            chunks[entry.chunk.chunk_id] = entry.chunk
        self._map, self._chunks = KeyMap(keys), chunks
        self._rows = None  # the build's file no longer holds every chunk

    def delete(self, doc_id: str) -> None:
        self.transport.delete_document(doc_id)
        held = self._chunks.items() if isinstance(self._chunks, dict) else enumerate(self._chunks)
        gone = [i for i, c in held if c.doc_id == doc_id]
        if gone:
            keys = self._map.keys.copy()
            keys[gone] = 0
            self._map = KeyMap(keys)

    def describe(self) -> dict[str, Any]:
        return {"name": QDRANT, "transport": self.transport.kind, **self._described}


def point_data(entry: ChunkEntry, avgdl: float, terms: Sequence[str] | None = None) -> PointData:
    """What is written for one chunk (``terms``: its analysed terms, when already known)."""
    from rag.index.lexical import analyzer_for

    analysed = terms if terms is not None else analyzer_for(entry.language).terms(entry.chunk.text)
    return PointData(point_key(entry.chunk), np.asarray(entry.vector, np.float32), entry.language,
                     bm25_vector(analysed, avgdl), entry.chunk.doc_id)
