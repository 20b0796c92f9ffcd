"""Writing an emulator's SSE events, misbehaving as a scripted or random fault says.

Shared by the OpenAI and Anthropic emulators, so both stall, trickle, cut and corrupt
their streams the same way.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from sidecar.emulators.openai import Fault


async def write_events(
    request: web.Request,
    response: web.StreamResponse,
    events: list[bytes],
    fault: Fault | None,
    malformed: bytes,
) -> None:
    """Write a prepared stream's events, misbehaving as `fault` says. A client (the sidecar)
    that went away, e.g. after its own timeout, simply ends the stream."""
    kind, seconds, at = stream_fault(fault)
    try:
        for i, data in enumerate(events):
            if kind == "slow_stream" or (kind != "delay" and i == at and seconds):
                await asyncio.sleep(seconds)  # a stall, or a pause before the fault
            if kind == "malformed" and i == at:
                await response.write(malformed)
            if kind == "cut_stream" and i == at:
                if request.transport is not None:
                    request.transport.close()  # what was written is flushed, then FIN
                return
            await response.write(data)
        await response.write_eof()
    except ConnectionResetError:
        return


def stream_fault(fault: Fault | None) -> tuple[str | None, float, int]:
    """(kind, seconds, the index of the event it strikes before) of a stream fault."""
    if fault is None:
        return None, 0.0, -1
    default = 2 if fault.kind == "cut_stream" else 1
    return fault.kind, fault.seconds, default if fault.after is None else fault.after
