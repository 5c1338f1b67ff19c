"""rag: answers about your documents, made only of sentences it can cite."""

__version__ = "0.1.0"

__all__ = ["__version__"]
