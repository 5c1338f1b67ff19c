"""The load test's minimal HTTP/1.1 client against a real asyncio server on loopback."""

from __future__ import annotations

import asyncio

import pytest

from rag.bench.http import HttpError, RawClient


async def _serve(replies: list[bytes], seen: list[bytes]) -> tuple[asyncio.AbstractServer, int]:
    """A server that records each request's bytes and writes the next canned reply."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while replies:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            seen.append(head + await reader.readexactly(length))
            writer.write(replies.pop(0))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_length_and_chunked_bodies_on_one_connection() -> None:
    replies = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n{\"a\": \"b\"}\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7\r\nevent: \r\n9;x=1\r\ncomplete\n\r\n0\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    ]
    seen: list[bytes] = []

    async def run() -> list[tuple[int, bytes]]:
        server, port = await _serve(replies, seen)
        async with server, RawClient(f"http://127.0.0.1:{port}") as client:
            return [
                await client.request("POST", "/api/ask", b'{"question": "Wer?"}'),
                await client.request("GET", "/stream"),
                await client.request("GET", "/missing"),
            ]

    answers = asyncio.run(run())
    assert answers == [(200, b'{"a": "b"}\n'), (200, b"event: complete\n"), (404, b"")]
    assert seen[0].startswith(b"POST /api/ask HTTP/1.1\r\n") and seen[0].endswith(b'{"question": "Wer?"}')
    assert b"Content-Length: 20\r\n" in seen[0]
    assert seen[1].startswith(b"GET /stream HTTP/1.1\r\n") and b"Content-Length" not in seen[1]
    assert len(seen) == 3  # one connection served all three


def test_a_reply_that_is_not_http_is_an_error_and_https_is_refused() -> None:
    async def run() -> None:
        server, port = await _serve([b"SSH-2.0-OpenSSH\r\n\r\n"], [])
        async with server, RawClient(f"http://127.0.0.1:{port}") as client:
            await client.request("GET", "/")

    with pytest.raises(HttpError, match="status line"):
        asyncio.run(run())
    with pytest.raises(ValueError, match="http://"):
        RawClient("https://127.0.0.1:1")
