"""The event loop a CSMS or station runs on: uvloop when it is installed, else asyncio's own.

uvloop (libuv under asyncio's API) is an optional extra, ``pip install 'ocppgen[uvloop]'``:
nothing in the runtime needs it, and every module runs on either loop. It lowers the socket and
scheduling cost of each frame, the part of a call's CPU time that is not OCPP
(docs/decisions/0019-performance.md has the measurements).

    from <package>.runtime.loop import run
    run(main())                  # uvloop if present
    run(main(), uvloop=False)    # asyncio's loop
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from typing import Any, TypeVar

__all__ = ["end_tasks", "loop_factory", "run", "uvloop_available"]

T = TypeVar("T")


def uvloop_available() -> bool:
    """Whether uvloop can be imported."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def loop_factory(uvloop: bool | None = None) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The factory of the loop to run on: uvloop's when ``uvloop`` is True, or None (when it
    is not installed) and ``uvloop`` is None; None means asyncio's default loop. Raises
    ImportError when ``uvloop`` is True and it is not installed."""
    if uvloop is False or (uvloop is None and not uvloop_available()):
        return None
    import uvloop as _uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = _uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T], *, uvloop: bool | None = None, debug: bool | None = None) -> T:
    """``asyncio.run(main)`` on the loop :func:`loop_factory` chooses: ``main`` the coroutine to
    run, ``uvloop`` as in :func:`loop_factory`, ``debug`` asyncio's debug mode (None: as the
    environment says)."""
    with asyncio.Runner(debug=debug, loop_factory=loop_factory(uvloop)) as runner:
        return runner.run(main)


async def end_tasks(tasks: Iterable[asyncio.Future[Any]], *, cancel: bool = True) -> None:
    """Cancel ``tasks`` (unless ``cancel`` is False) and wait until every one has ended. How
    they end (cancelled, an exception) is theirs: nothing of it is raised here, and an
    exception is marked as retrieved. A cancellation of the caller while it waits is raised,
    as it must be: ``with suppress(CancelledError): await task`` would swallow it too (the
    caller would go on as if nobody had asked it to stop)."""
    pending = [task for task in tasks if not task.done()]
    if cancel:
        for task in pending:
            task.cancel()
    if pending:
        await asyncio.wait(pending)
    for task in pending:
        if not task.cancelled():
            task.exception()
