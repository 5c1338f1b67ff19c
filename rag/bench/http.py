"""A minimal HTTP/1.1 client over asyncio streams, for the load test on loopback.

The load generator runs on the same two cores as the server it measures. httpx spent 2.5-4 ms
of CPU a request there (request and response objects, anyio, header handling), a third of
what the server spends on an answer, so the test partly measured its own client. This one
writes the request bytes and reads the status, the headers and a ``Content-Length`` or chunked
body: about what ``curl`` does, on one keep-alive connection per simulated user.

Example::

    async with RawClient("http://127.0.0.1:7860") as client:
        status, body = await client.request("POST", "/api/ask", json.dumps({...}).encode())
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024


class HttpError(RuntimeError):
    """The server's reply could not be read as HTTP/1.1."""


class RawClient:
    """One keep-alive connection; requests one after another (not shared between tasks)."""

    def __init__(self, base_url: str, timeout: float = 120.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only plain http:// URLs, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout = timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None

    async def request(self, method: str, path: str, body: bytes = b"",
                      content_type: str = "application/json") -> tuple[int, bytes]:
        """(status, body) of one request; the connection is reopened when the server closed it."""
        return await asyncio.wait_for(self._request(method, path, body, content_type), self.timeout)

    async def _request(self, method: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body or method == "POST":
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        writer.write(head.encode("latin-1") + b"\r\n" + body)
        await writer.drain()
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            await self.close()
            raise HttpError("the connection closed before a complete response header") from exc
        if len(raw) > MAX_HEADER_BYTES:
            raise HttpError("response header too large")
        lines = raw.decode("latin-1").split("\r\n")
        try:
            status = int(lines[0].split(" ", 2)[1])
        except (IndexError, ValueError):
            raise HttpError(f"not an HTTP status line: {lines[0][:100]!r}") from None
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = await self._read_chunked(reader)
        elif "content-length" in headers:
            data = await reader.readexactly(int(headers["content-length"]))
        else:  # no length: the body runs until the server closes the connection
            data = await reader.read()
            await self.close()
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, data

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, then the blank line
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)  # the chunk's CRLF
