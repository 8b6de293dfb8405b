"""Driving a call's synchronous model steps from an async server (FastAPI / Starlette)."""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

from .calls import Call, CallCancelled

_DONE = object()


def _step(gen: Iterator[Any]) -> Any:
    try:
        return next(gen)
    except StopIteration:
        return _DONE


async def drive(call: Call, gen: Iterator[bytes]) -> AsyncIterator[bytes]:
    """Yields the call's PCM pieces, each made in a worker thread, and records how it ended.

    A closed connection reaches us as the task's cancellation (Starlette cancels the streaming
    task when the client disconnects) or as the generator being closed: either records
    `client_closed` and wakes the model, so it makes nothing more. An exception from the model
    records `failed` and propagates, so the server fails the way upstream's does.
    """
    loop = asyncio.get_running_loop()
    try:
        while True:
            item = await loop.run_in_executor(None, _step, gen)
            if item is _DONE:
                break
            yield item
    except (asyncio.CancelledError, GeneratorExit, CallCancelled):
        call.cancel()
        raise
    except BaseException as exc:
        call.end("failed", error=type(exc).__name__, message=str(exc))
        raise
    call.end("complete")


async def collect(call: Call, gen: Iterator[bytes]) -> bytes:
    """All of a call's PCM at once (non-streaming answers)."""
    parts = [piece async for piece in drive(call, gen)]
    return b"".join(parts)
