"""What the pytest plugin's fixtures hand out: pairs opened inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from .pairs import Pair, csms_pair, station_pair

__all__ = ["PendingPair", "run_test"]


class PendingPair:
    """A ``Pair`` made by a fixture before the test's event loop runs. A test marked
    ``@pytest.mark.ocpp`` gets it open (it stands for the pair: every ``Pair`` attribute);
    elsewhere open it with ``async with pending as pair:``."""

    def __init__(self, opener: Callable[[], contextlib.AbstractAsyncContextManager[Pair[Any]]], what: str) -> None:
        self._opener = opener
        self._what = what
        self._context: contextlib.AbstractAsyncContextManager[Pair[Any]] | None = None
        self._pair: Pair[Any] | None = None

    @classmethod
    def for_csms(cls, spec: Any, binding: Any, transport: Any) -> PendingPair:
        if hasattr(spec, "admit") and hasattr(spec, "bindings"):  # a CsmsServer
            server = spec
            if binding is None:
                binding = next(iter(server.bindings.values()))[0]
            return cls(lambda: csms_pair(binding, server=server, transport=transport), f"CSMS pair ({transport})")
        binding, handler = spec
        return cls(lambda: csms_pair(binding, handler, transport=transport), f"CSMS pair ({transport})")

    @classmethod
    def for_station(cls, spec: Any, transport: Any) -> PendingPair:
        binding, handler, *rest = spec
        options = rest[0] if rest else None
        return cls(lambda: station_pair(binding, handler, options=options, transport=transport), f"station pair ({transport})")

    async def __aenter__(self) -> Pair[Any]:
        if self._pair is None:
            self._context = self._opener()
            self._pair = await self._context.__aenter__()
        return self._pair

    async def __aexit__(self, *exc: Any) -> None:
        context, self._context, self._pair = self._context, None, None
        if context is not None:
            await context.__aexit__(*exc)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if self._pair is None:
            raise RuntimeError(
                f"the {self._what} is not open: mark the test @pytest.mark.ocpp, or use `async with` on the fixture"
            )
        return getattr(self._pair, name)

    def __repr__(self) -> str:
        return f"<{self._what}{' open' if self._pair is not None else ''}>"


def run_test(test: Callable[..., Awaitable[Any]], arguments: dict[str, Any], timeout: float) -> None:
    """Run an async test in a fresh event loop, its pending pairs open around it."""

    async def main() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for value in arguments.values():
                if isinstance(value, PendingPair):
                    await stack.enter_async_context(value)
            await test(**arguments)

    async def bounded() -> None:
        try:
            await asyncio.wait_for(main(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"the test did not finish within {timeout} s (@pytest.mark.ocpp(timeout=...))") from None

    asyncio.run(bounded())
