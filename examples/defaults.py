"""A sensible answer for any response type, for the actions an example does not handle itself:
every optional field left out, a status enum set to its accepting value, times set to now."""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from msgspec import inspect as mi

PREFERRED = ("Accepted", "Ok", "OK")


def default_value(t: mi.Type) -> Any:
    if isinstance(t, mi.EnumType):
        members = list(t.cls)
        return next((m for m in members if m.value in PREFERRED), members[0])
    if isinstance(t, mi.DateTimeType):
        return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    if isinstance(t, mi.IntType):
        return max(0, t.ge or 0)
    if isinstance(t, mi.FloatType):
        return float(max(0, t.ge or 0))
    if isinstance(t, mi.StrType):
        return ""
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.ListType):
        return [default_value(t.item_type)] * (t.min_length or 0)
    if isinstance(t, mi.StructType):
        return default_struct(t.cls)
    return None


def default_struct(cls: type) -> Any:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    kwargs = {f.name: default_value(f.type) for f in info.fields if f.required}
    return cls(**kwargs)


def with_defaults(handler_cls: type, handled: dict[str, str], routes: Any) -> type:
    """A subclass of ``handler_cls`` answering every action it does not implement itself."""
    namespace: dict[str, Any] = {}
    generated = next(c for c in handler_cls.__mro__ if c.__module__.startswith("ocppgen.generated."))
    for action, method in handled.items():
        if getattr(handler_cls, method) is not getattr(generated, method):
            continue  # the example implements it
        response = routes[action].response

        def make(response: Any, action: str) -> Any:
            async def answer(self: Any, request: Any, context: Any) -> Any:
                self.log(context.station_id, f"{action} (default answer)")
                return None if response is None else default_struct(response)

            return answer

        namespace[method] = make(response, action)
    return type(handler_cls.__name__, (handler_cls,), namespace)


def describe(obj: Any) -> str:
    return msgspec.json.encode(obj).decode()[:160]
