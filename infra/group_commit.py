"""Group commit: the appends that arrive together for one tenant share one transaction.

A tenant's positions are handed out under its head row, locked until commit, so its
appends commit one after another however many writers there are. Each transaction
holding that lock costs round trips, and each round trip waits for the event loop. So
appends wait in a per-tenant queue, and one writer task per tenant takes everything
queued (up to `max_batch`) into one transaction: one round trip for all their events,
the hooks once over all their records, one commit. A lone append is a batch of one.

What one command's append decided (written, or refused by a lost race) is its own; an
error that aborts the whole batch is retried command by command, so only the command
that caused it sees it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# Writes a batch and answers each item, in order; an exception fails the whole batch.
WriteBatch = Callable[[Sequence[Item]], Awaitable[Sequence[Result]]]


class _Waiting(Generic[Item, Result]):
    __slots__ = ("answer", "item")

    def __init__(self, item: Item, answer: asyncio.Future[Result]) -> None:
        self.item = item
        self.answer = answer


class GroupCommit(Generic[Item, Result]):
    def __init__(self, write: WriteBatch[Item, Result], *, max_batch: int = 64) -> None:
        self._write = write
        self.max_batch = max_batch
        self._queues: dict[str, list[_Waiting[Item, Result]]] = {}
        self._writers: dict[str, asyncio.Task[None]] = {}

    async def submit(self, tenant_id: str, item: Item) -> Result:
        """Queue `item` for the tenant's next transaction and wait for its answer."""
        answer: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queues.setdefault(tenant_id, []).append(_Waiting(item, answer))
        if tenant_id not in self._writers:
            self._writers[tenant_id] = asyncio.create_task(self._drain(tenant_id))
        # A caller that gives up stops waiting; once its item is in a transaction, the
        # transaction goes on (the item is written or refused, as without the caller).
        return await answer

    async def _drain(self, tenant_id: str) -> None:
        try:
            while queue := self._queues.get(tenant_id):
                batch = [w for w in queue[: self.max_batch] if not w.answer.done()]
                del queue[: self.max_batch]
                if batch:
                    await self._settle(batch)
        finally:
            del self._writers[tenant_id]
            # Items still queued mean the writer was stopped (cancelled): release them.
            for waiting in self._queues.pop(tenant_id, []):
                waiting.answer.cancel()

    async def _settle(self, batch: list[_Waiting[Item, Result]]) -> None:
        try:
            results = await self._write([w.item for w in batch])
        except asyncio.CancelledError:  # shutting down: nobody is left waiting for ever
            for waiting in batch:
                waiting.answer.cancel()
            raise
        except Exception as error:
            if len(batch) == 1:
                _answer_error(batch[0], error)
                return
            for waiting in batch:  # one by one: only the command at fault sees the error
                try:
                    (result,) = await self._write([waiting.item])
                except Exception as alone:
                    _answer_error(waiting, alone)
                else:
                    _answer(waiting, result)
            return
        for waiting, result in zip(batch, results, strict=True):
            _answer(waiting, result)


def _answer(waiting: _Waiting[Item, Result], result: Result) -> None:
    if not waiting.answer.done():
        waiting.answer.set_result(result)


def _answer_error(waiting: _Waiting[Item, Result], error: BaseException) -> None:
    if not waiting.answer.done():
        waiting.answer.set_exception(error)
