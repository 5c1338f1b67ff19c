"""Where the chunks are searched: the :class:`SearchBackend` seam, the local backend (FAISS +
numpy BM25) and Qdrant's engine (imported only when chosen)."""
