"""Lean clients for load generation: keep-alive HTTP/1.1 and a WebSocket subscriber.

On a small machine the load generator shares the CPU with the server it measures; a
general-purpose client (httpx builds a request object, header model and response object
per call) costs about as much per request as a small GraphQL request does to serve. This
one writes a prepared request and reads the status, the headers and a Content-Length or
chunked body, nothing more, so the figures are the server's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import struct
from collections import deque
from urllib.parse import urlsplit


class KeepAlive:
    """One persistent connection; `post` sends a JSON body and answers (status, body)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self._reader = reader
        self._writer = writer
        self._head = head

    @classmethod
    async def open(cls, url: str, path: str, token: str) -> KeepAlive:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()
        return cls(reader, writer, head)

    async def post(self, body: bytes) -> tuple[int, bytes]:
        self._writer.write(b"%s%d\r\n\r\n%s" % (self._head, len(body), body))
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head.partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length, chunked = None, False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            return status, await self._chunked()
        return status, await self._reader.readexactly(length or 0)

    async def _chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


class WebSocketClient:
    """A client end of one WebSocket (RFC 6455), just enough for graphql-transport-ws:
    text frames out (masked, as clients must), whole messages in, read without decoding."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._buffer = b""
        self._parts: list[bytes] = []
        self._ready: deque[bytes] = deque()

    @classmethod
    async def open(cls, url: str, path: str, subprotocol: str) -> WebSocketClient:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        reader, writer = await asyncio.open_connection(host, port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {subprotocol}\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            writer.close()
            raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
        return cls(reader, writer)

    async def send(self, text: bytes) -> None:
        mask = os.urandom(4)
        length = len(text)
        if length < 126:
            header = struct.pack("!BB", 0x81, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x81, 0x80 | 127, length)
        repeated = (mask * (length // 4 + 1))[:length]
        masked = (int.from_bytes(text, "big") ^ int.from_bytes(repeated, "big")).to_bytes(
            length, "big"
        )
        self._writer.write(header + mask + masked)
        await self._writer.drain()

    async def receive(self) -> bytes:
        """The next data message."""
        while not self._ready:
            await self._fill()
        return self._ready.popleft()

    async def receive_all(self) -> list[bytes]:
        """Every data message that has arrived (at least one): one read for many frames."""
        while not self._ready:
            await self._fill()
        taken = list(self._ready)
        self._ready.clear()
        return taken

    async def _fill(self) -> None:
        """Read what the socket has and cut it into frames (fragments joined); pings are
        answered, a close raises."""
        chunk = await self._reader.read(1 << 20)
        if not chunk:
            raise ConnectionError("closed by the server")
        buffer = self._buffer + chunk if self._buffer else chunk
        at = 0
        while len(buffer) - at >= 2:
            first, second = buffer[at], buffer[at + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if len(buffer) - at < 4:
                    break
                (length,), header = struct.unpack_from("!H", buffer, at + 2), 4
            elif length == 127:
                if len(buffer) - at < 10:
                    break
                (length,), header = struct.unpack_from("!Q", buffer, at + 2), 10
            if len(buffer) - at < header + length:
                break
            payload = buffer[at + header : at + header + length]
            at += header + length
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("closed by the server")
            if opcode == 0x9:  # ping: a pong with the same payload
                self._writer.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
                continue
            if opcode == 0xA:
                continue
            self._parts.append(payload)
            if first & 0x80:
                self._ready.append(b"".join(self._parts))
                self._parts.clear()
        self._buffer = buffer[at:]

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError, ConnectionError):
            await self._writer.wait_closed()
