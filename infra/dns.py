"""Name resolution for the webhook URL checks, through the operating system's resolver."""

from __future__ import annotations

import asyncio
import socket


class SystemResolver:
    async def resolve(self, host: str) -> list[str]:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except (socket.gaierror, UnicodeError):
            return []
        return sorted({str(info[4][0]) for info in found})
