"""Documents in: find files, read each format, split into blocks and sentences with offsets,
group sentences into chunks."""

from rag.ingest.files import SeedsMissing, load_documents, seed_files, seeds_fingerprint
from rag.ingest.loader import Block, DocumentError, DocumentLoader
from rag.ingest.registry import blocks_of
from rag.ingest.sentences import sentences_of, sentences_of_all

__all__ = [
    "Block",
    "DocumentError",
    "DocumentLoader",
    "SeedsMissing",
    "blocks_of",
    "load_documents",
    "seed_files",
    "seeds_fingerprint",
    "sentences_of",
    "sentences_of_all",
]
