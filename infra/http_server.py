"""How `okrledger serve` speaks HTTP/1.1: uvicorn's httptools parser, with a bound on headers.

httptools (llhttp) keeps no limit of its own on a request's head: a 50 MB Authorization
header would be read, buffered and parsed in full before the app could refuse it. This
protocol counts the bytes of each request line and headers as they arrive and, past
`MAX_HEAD_BYTES`, answers 431 and closes the connection at once, as h11 does at its 16 KB.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 16 * 1024

# For uvicorn's `http` option: a class path, so worker processes import it themselves.
PROTOCOL = f"{__name__}:BoundedHeaders"

_REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)
_BODY = (
    b'{"errors":[{"message":"Request headers too large: at most %d bytes are accepted",'
    b'"extensions":{"code":"BAD_REQUEST"}}]}'
) % MAX_HEAD_BYTES


class HeadTooLarge(Exception):
    """Stops the parser once a head that arrived whole is found too large."""


class BoundedHeaders(HttpToolsProtocol):
    """httptools, refusing a request whose line and headers pass MAX_HEAD_BYTES with 431."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_head = True
        self._head_bytes = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        # A head still incomplete is judged by the bytes it took so far, so a huge header is
        # refused after one read, not buffered whole; one that arrived complete, by its size.
        if self._refused:
            return
        if self._reading_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._reading_head and self._head_bytes > MAX_HEAD_BYTES:
            self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        head = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if head > MAX_HEAD_BYTES:
            self._refuse()
            raise HeadTooLarge  # the parser stops here: no request reaches the app
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # our 431 answered already
            super().send_400_response(msg)

    def _refuse(self) -> None:
        self._refused = True
        self._reading_head = False
        self.logger.warning("Request headers over %d bytes refused", MAX_HEAD_BYTES)
        transport: asyncio.Transport = self.transport
        if not transport.is_closing():
            transport.write(_REFUSAL % (len(_BODY), _BODY))
            transport.close()
