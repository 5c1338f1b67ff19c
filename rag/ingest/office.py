"""What the loaders of zipped Office files (PowerPoint, Excel) check before a library unpacks
them: the unpacked size and the number of parts (a zip bomb is refused), and macros (a file
holding a VBA project is refused, whatever its ending says; nothing in it is ever run)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from rag.ingest import loader as limits
from rag.ingest.loader import DocumentError


def check_office_zip(path: Path, raw: bytes, what: str) -> None:
    """:class:`DocumentError` for a damaged zip, one that unpacks beyond
    :data:`~rag.ingest.loader.MAX_UNPACKED_BYTES` or holds too many parts, or one with macros."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"{path} is a damaged {what} ({exc})") from exc
    if len(infos) > limits.MAX_ZIP_MEMBERS:
        raise DocumentError(f"{path} has {len(infos):,} parts; the limit is {limits.MAX_ZIP_MEMBERS:,}")
    total = sum(info.file_size for info in infos)
    if total > limits.MAX_UNPACKED_BYTES:
        limit = limits.MAX_UNPACKED_BYTES / 2**20
        raise DocumentError(f"{path} unpacks to {total / 2**20:.0f} MB; the limit is {limit:.0f} MB")
    if any(Path(info.filename).name.lower() == "vbaproject.bin" for info in infos):
        raise DocumentError(
            f"{path} holds macros (a VBA project), which are never opened here; save it without macros"
        )
