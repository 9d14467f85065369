"""The station side of OCPP 1.6 configuration: keys that answer GetConfiguration and
ChangeConfiguration (1.6 edition 2 sections 5.8, 5.3 and chapter 9).

A station declares the keys it supports (:class:`KeySpec`, most easily with :func:`declare_key`
from a generated constant such as ``v16.configuration.Keys.HeartbeatInterval``, which brings
the standard type and accessibility) and gives them to a :class:`ConfigurationStore`. Values of
keys the Central System can write persist in a :class:`~.values.ValueStore` (SQLite by
default) and survive a restart.

GetConfiguration (section 5.8)
    no keys: every key; else the recognized keys with their value and read-only flag, the
    others in unknownKey (compared without case: keys are CiString50). A write-only key (the
    security whitepaper's AuthorizationKey) is listed without its value. More keys than
    GetConfigurationMaxKeys: CALLERROR OccurenceConstraintViolation (1.6's spelling; the limit
    is the station's, section 5.8 says it MAY limit).
ChangeConfiguration (section 5.3, ChangeConfiguration.conf statuses)
    an unknown key: NotSupported; a read-only key or a value that is not of the key's type
    (or outside its limits): Rejected; a key declared so: RebootRequired (stored, effective
    after the station's next reboot); else Accepted, the value stored before the answer.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

import msgspec

from .codes import Failure, code_for
from .config import BackOff
from .routing import CallErrorAnswer
from .values import MemoryValues, ValueStore

if TYPE_CHECKING:
    from .client import StationClient
    from .config import StationOptions
    from .routing import CallContext, Route

__all__ = ["ConfigurationStore", "KeySpec", "KeyType", "StandardKey", "declare_key"]

Req = TypeVar("Req")
Res = TypeVar("Res")
C = TypeVar("C")
H = TypeVar("H")
CC = TypeVar("CC")
log = logging.getLogger("ocppgen")

KeyType = Literal["boolean", "integer", "string", "CSL"]
Access = Literal["R", "W", "RW"]


class StandardKey(Protocol):
    """What :func:`declare_key` reads of a generated ``configuration.ConfigurationKey``."""

    @property
    def key(self) -> str: ...
    @property
    def data_type(self) -> KeyType: ...
    @property
    def accessibility(self) -> tuple[Access, ...]: ...
    @property
    def secret(self) -> bool: ...


@dataclass(frozen=True, kw_only=True)
class KeySpec:
    """A configuration key the station supports. ``min_limit``/``max_limit`` bound integers;
    ``values_list`` lists the allowed values (a CSL's allowed items); ``max_items`` bounds a
    CSL's length; ``max_length`` a string's (CiString500 at most).

    Attributes:
        key: The key's name as the station reports it; compared without case (keys are
            CiString50).
        data_type: ``boolean``, ``integer``, ``string`` or ``CSL`` (a comma-separated list): a
            ChangeConfiguration value not of this type is Rejected (section 5.3).
        accessibility: ``R`` (read-only: reported with ``readonly`` true, ChangeConfiguration
            Rejected), ``W`` (write-only: listed without its value by GetConfiguration) or
            ``RW``.
        reboot_required: A ChangeConfiguration of this key answers RebootRequired (the value
            is stored, effective after the station's next reboot) instead of Accepted.
        secret: The value is never reported by GetConfiguration (the security whitepaper's
            AuthorizationKey), whatever the accessibility.
        persistent: Whether set values are written to the :class:`~.values.ValueStore`; None
            (the default): every key that is not read-only.
        value: The initial value, used until a stored or set value replaces it; ValueError
            when not valid for the key.
    """

    key: str
    data_type: KeyType = "string"
    accessibility: Access = "RW"
    reboot_required: bool = False
    secret: bool = False
    min_limit: int | None = None
    max_limit: int | None = None
    values_list: tuple[str, ...] = ()
    max_items: int | None = None
    max_length: int = 500
    persistent: bool | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        if self.value is not None and (problem := check_key_value(self, self.value)) is not None:
            raise ValueError(f"{self.key}: initial value: {problem}")

    @property
    def readonly(self) -> bool:
        return self.accessibility == "R"

    @property
    def readable(self) -> bool:
        return self.accessibility != "W" and not self.secret

    @property
    def is_persistent(self) -> bool:
        return self.persistent if self.persistent is not None else self.accessibility != "R"


def declare_key(
    standard: StandardKey,
    value: str | None = None,
    *,
    accessibility: Access | None = None,
    reboot_required: bool = False,
    min_limit: int | None = None,
    max_limit: int | None = None,
    values_list: tuple[str, ...] = (),
    max_items: int | None = None,
    persistent: bool | None = None,
) -> KeySpec:
    """A :class:`KeySpec` from a generated standard key (type, accessibility: the first the
    text allows unless ``accessibility`` chooses, secret flag).

    Args:
        standard: A generated key such as ``v16.configuration.Keys.HeartbeatInterval``: its
            name, data type, accessibility and secret flag.
        value: The initial value (:attr:`KeySpec.value`).
        accessibility: One of the accessibilities the specification allows for the key
            (ValueError otherwise); None: the first it allows.
        reboot_required: Answer RebootRequired to a ChangeConfiguration of the key.
        min_limit: The smallest value of an integer key.
        max_limit: The largest value of an integer key.
        values_list: The allowed values (of a CSL: the allowed items).
        max_items: The most items of a CSL key.
        persistent: Whether set values are stored (:attr:`KeySpec.persistent`).
    """
    if accessibility is not None and accessibility not in standard.accessibility:
        raise ValueError(f"{standard.key}: the specification allows {standard.accessibility}, not {accessibility}")
    return KeySpec(
        key=standard.key,
        data_type=standard.data_type,
        accessibility=accessibility or standard.accessibility[0],
        reboot_required=reboot_required,
        secret=standard.secret,
        min_limit=min_limit,
        max_limit=max_limit,
        values_list=values_list,
        max_items=max_items,
        persistent=persistent,
        value=value,
    )


def check_key_value(spec: KeySpec, value: str) -> str | None:
    """Why ``value`` is not valid for ``spec``, or None."""
    if len(value) > spec.max_length:
        return f"longer than {spec.max_length} characters"
    if spec.data_type == "integer":
        if not value.lstrip("+-").isdigit() or not value.isascii():
            return f"{value!r} is not an integer"
        number = int(value)
        if spec.min_limit is not None and number < spec.min_limit:
            return f"below the minimum {spec.min_limit}"
        if spec.max_limit is not None and number > spec.max_limit:
            return f"above the maximum {spec.max_limit}"
        return None
    if spec.data_type == "boolean":
        return None if value.lower() in ("true", "false") else f"{value!r} is not true or false"
    if spec.data_type == "CSL":
        items = [i.strip() for i in value.split(",")] if value else []
        if spec.max_items is not None and len(items) > spec.max_items:
            return f"more than {spec.max_items} items"
        unknown = [i for i in items if spec.values_list and i not in spec.values_list]
        return f"{','.join(unknown)} not supported" if unknown else None
    if spec.values_list and value not in spec.values_list:
        return f"{value!r} is not one of {','.join(spec.values_list)}"
    return None


class ConfigurationStore:
    """A 1.6 station's configuration keys, values persisted in ``values`` (memory by default;
    :class:`~.values.SqliteValues` for a file).

    Args:
        keys: The keys the station supports (ValueError when one is declared twice, names
            compared without case). Stored values of persistent keys replace the declared
            initial values; a stored value no longer valid for its key is ignored.
        values: Where set values of persistent keys are kept; None: memory only.
    """

    def __init__(self, keys: Iterable[KeySpec], *, values: ValueStore | None = None) -> None:
        self._specs: dict[str, KeySpec] = {}
        for spec in keys:
            folded = spec.key.casefold()
            if folded in self._specs:
                raise ValueError(f"{spec.key} declared twice")
            self._specs[folded] = spec
        self._store: ValueStore = values if values is not None else MemoryValues()
        self._values: dict[str, str] = {k: s.value for k, s in self._specs.items() if s.value is not None}
        self._watchers: dict[str, list[Callable[[str], object]]] = {}
        for key, value in self._store.load().items():
            found = self._specs.get(key)
            if found is not None and found.is_persistent and check_key_value(found, value) is None:
                self._values[key] = value

    # -- the station's own code ------------------------------------------------------------

    @property
    def keys(self) -> Mapping[str, KeySpec]:
        """Every declared key, by its case-folded name."""
        return self._specs

    def _spec(self, key: str | StandardKey | KeySpec) -> KeySpec:
        name = key if isinstance(key, str) else key.key
        spec = self._specs.get(name.casefold())
        if spec is None:
            raise KeyError(f"{name} is not declared")
        return spec

    def get(self, key: str | StandardKey | KeySpec) -> str | None:
        """The value (any accessibility: the station's own read), None when unset.

        Args:
            key: The key's name (any case), a generated standard key or a :class:`KeySpec`;
                KeyError when not declared.
        """
        return self._values.get(self._spec(key).key.casefold())

    def integer(self, key: str | StandardKey | KeySpec, default: int | None = None) -> int | None:
        """The value as an integer.

        Args:
            key: As for :meth:`get`.
            default: Returned when the key is unset or its value is not an integer.
        """
        value = self.get(key)
        return default if value is None or check_key_value(KeySpec(key="_", data_type="integer"), value) else int(value)

    def boolean(self, key: str | StandardKey | KeySpec, default: bool | None = None) -> bool | None:
        """The value as a boolean (``true``/``false``, any case).

        Args:
            key: As for :meth:`get`.
            default: Returned when the key is unset or its value is not a boolean.
        """
        value = self.get(key)
        return default if value is None or value.lower() not in ("true", "false") else value.lower() == "true"

    def set(self, key: str | StandardKey | KeySpec, value: str) -> None:
        """Set a value from the station's own code (any accessibility); ValueError if invalid.

        Args:
            key: As for :meth:`get`.
            value: The new value, checked against the key's type and limits; stored (when the
                key is persistent) before the watchers are called.
        """
        spec = self._spec(key)
        problem = check_key_value(spec, value)
        if problem is not None:
            raise ValueError(f"{spec.key}: {problem}")
        self._store_value(spec, value)

    def watch(self, key: str | StandardKey | KeySpec, callback: Callable[[str], object]) -> None:
        """Call ``callback(new_value)`` whenever ``key`` is set."""
        self._watchers.setdefault(self._spec(key).key.casefold(), []).append(callback)

    def _store_value(self, spec: KeySpec, value: str) -> None:
        folded = spec.key.casefold()
        if spec.is_persistent:
            self._store.save(folded, value)
        self._values[folded] = value
        for callback in self._watchers.get(folded, ()):
            try:
                callback(value)
            except Exception:  # a watcher's bug must not undo an accepted value
                log.exception("configuration: watcher of %s failed", spec.key)

    def _int(self, name: str) -> int | None:
        return self.integer(name) if name.casefold() in self._specs else None

    def heartbeat_interval(self, default: int = 300) -> int:
        """HeartbeatInterval (seconds).

        Args:
            default: Returned when the key is not declared or unset.
        """
        found = self._int("HeartbeatInterval")
        return default if found is None else found

    def ping_interval(self) -> int | None:
        """WebSocketPingInterval (OCPP-J 1.6 section 7; 0: no pings; None: not declared)."""
        return self._int("WebSocketPingInterval")

    def backoff(self, default: BackOff = BackOff()) -> BackOff:
        """1.6 has no back-off keys: ``default``."""
        return default

    def station_options(self, base: StationOptions) -> StationOptions:
        """``base`` with the ping interval and the transaction message retries
        (TransactionMessageAttempts, TransactionMessageRetryInterval) taken from the keys."""
        attempts = self._int("TransactionMessageAttempts")
        interval = self._int("TransactionMessageRetryInterval")
        ping = self.ping_interval()
        return dataclasses.replace(
            base,
            ping_interval=base.ping_interval if ping is None else (ping or None),
            queue_attempts=base.queue_attempts if attempts is None else attempts,
            queue_interval=base.queue_interval if interval is None else float(interval),
        )

    def bind(self, client: StationClient[H, CC]) -> None:
        """Apply a WebSocketPingInterval changed later (by the Central System) to ``client``."""
        if "websocketpinginterval" in self._specs:
            self.watch("WebSocketPingInterval", lambda value: client.set_ping_interval(int(value)))

    # -- the Central System's requests -------------------------------------------------------

    def answer_get_configuration(self, route: Route[Req, Res], request: Req, context: CallContext[C]) -> Res:
        """The GetConfiguration.conf to ``request`` (section 5.8).

        Args:
            route: The GetConfiguration route of the station's version (TypeError for
                another); its response codec builds the answer.
            request: The GetConfiguration.req.
            context: The handler's call context (unused: every key is answered the same way
                whoever asks).
        """
        if route.action != "GetConfiguration":
            raise TypeError(f"expected the GetConfiguration route, got {route.action}")
        raw = msgspec.to_builtins(request)
        asked = raw.get("key")
        if isinstance(asked, list):
            limit = self._int("GetConfigurationMaxKeys")
            if limit is not None and limit > 0 and len(asked) > limit:
                code = code_for(Failure.TOO_MANY_ITEMS, "1.6")  # OCA's spelling: OccurenceConstraintViolation
                raise CallErrorAnswer(code, f"{len(asked)} keys, GetConfigurationMaxKeys is {limit}")
            specs = [self._specs.get(str(k).casefold()) for k in asked]
            unknown = [str(k) for k, s in zip(asked, specs) if s is None]
            known = [s for s in specs if s is not None]
        else:
            unknown, known = [], list(self._specs.values())
        payload: dict[str, object] = {}
        if known:
            payload["configurationKey"] = [self._key_value(spec) for spec in known]
        if unknown:
            payload["unknownKey"] = unknown
        return _response(route, payload)

    def _key_value(self, spec: KeySpec) -> dict[str, object]:
        item: dict[str, object] = {"key": spec.key, "readonly": spec.readonly}
        value = self._values.get(spec.key.casefold())
        if value is not None and spec.readable:
            item["value"] = value
        return item

    def answer_change_configuration(self, route: Route[Req, Res], request: Req, context: CallContext[C]) -> Res:
        """The ChangeConfiguration.conf to ``request`` (section 5.3).

        Args:
            route: The ChangeConfiguration route of the station's version (TypeError for
                another); its response codec builds the answer.
            request: The ChangeConfiguration.req.
            context: The handler's call context (unused).
        """
        if route.action != "ChangeConfiguration":
            raise TypeError(f"expected the ChangeConfiguration route, got {route.action}")
        raw = msgspec.to_builtins(request)
        spec = self._specs.get(str(raw["key"]).casefold())
        value = str(raw["value"])
        if spec is None:
            status = "NotSupported"
        elif spec.readonly or check_key_value(spec, value) is not None:
            status = "Rejected"
        else:
            try:
                self._store_value(spec, value)
                status = "RebootRequired" if spec.reboot_required else "Accepted"
            except Exception:  # storage failed: not set
                log.exception("configuration: storing %s failed", spec.key)
                status = "Rejected"
        return _response(route, {"status": status})


def _response(route: Route[Req, Res], payload: Mapping[str, object]) -> Res:
    codec = route.response_codec
    if codec is None:
        raise TypeError(f"{route.action} has no response")
    return codec.decode(msgspec.json.encode(payload))
