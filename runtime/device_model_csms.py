"""The CSMS side of the device model: reports assembled, requests split, configuration at boot.

ReportAssembler
    A station sends a report (B07/B08) as NotifyReport CALLs with the request's requestId, a
    seqNo from 0 and tbc on every part but the last. ``feed`` takes each part (from the CSMS's
    ``on_notify_report``); ``wait(station, request_id, timeout)`` returns the whole report, typed
    by the version's ReportDataType, once every part from 0 to the last arrived, in any order.
    A part repeated is ignored, a part after the last or a report with gaps when the time is
    up raises :class:`ReportIncomplete` naming the missing seqNos.
Splitting
    A CSMS SHALL NOT send more items than the station's ItemsPerMessage[GetVariables |
    SetVariables | GetReport] (B05.FR.11, B06.FR.05, B08.FR.06), and the station may refuse a
    CALL longer than BytesPerMessage (B06.FR.17, B08.FR.18). :func:`read_limits` reads the six
    DeviceDataCtrlr variables, :func:`split` cuts a list of items by both limits (whole CALL
    frames measured), :func:`call_in_batches` sends one CALL per batch (GetVariables,
    SetVariables) and :func:`request_reports_in_batches` one GetReport per batch, each with its
    own requestId, and awaits their reports. SetVariables items that name one attribute twice
    are refused before anything is sent (B05.FR.13, :func:`check_set_variables`).
BootConfiguration
    The boot-time configuration recipe (B02, the Pending state): the first BootNotification
    of a session is answered Pending; once the answer is out, ``configure(session)`` reads and
    sets what the operator wants (the CSMS may send while Pending, B02.FR.02 binds only the
    station); when it returns True the CSMS asks for a new BootNotification with
    TriggerMessage (F06) and answers that one Accepted. A station not configured by then boots
    again after the Pending interval (B02.FR.04) and the recipe runs again.

Everything here is version-neutral: the requests are built from their JSON shape by the
route's codec, so the caller passes the version's routes (``routing.GET_VARIABLES``, ...).
Decision 0018 records the choices.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

import msgspec

from .device_model import split_by_size
from .errors import LocalError, OcppError

if TYPE_CHECKING:
    from .routing import CallContext, Route
    from .session import Session

__all__ = [
    "BootConfiguration",
    "Limits",
    "MessageLimits",
    "NotifyReportLike",
    "Report",
    "ReportAssembler",
    "ReportIncomplete",
    "ReportRefused",
    "call_in_batches",
    "check_set_variables",
    "read_limits",
    "request_report",
    "request_reports_in_batches",
    "split",
]

R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
T = TypeVar("T")
Req = TypeVar("Req")
Res = TypeVar("Res")
C = TypeVar("C")


class NotifyReportLike(Protocol[R_co]):
    """A NotifyReportRequest of 2.0.1 or 2.1, as the assembler reads it."""

    @property
    def request_id(self) -> int: ...
    @property
    def seq_no(self) -> int: ...
    @property
    def tbc(self) -> bool: ...
    @property
    def generated_at(self) -> datetime.datetime: ...
    @property
    def report_data(self) -> Sequence[R_co] | msgspec.UnsetType: ...


@dataclass(frozen=True)
class Report(Generic[R]):
    """One whole report: its items in seqNo order, how many parts it came in, and when the
    station generated its first part.

    Attributes:
        station: The station's identity, as given to :meth:`ReportAssembler.feed`.
        request_id: The requestId of the GetBaseReport / GetReport the report answers.
        generated_at: The generatedAt of part 0.
        parts: How many NotifyReport parts the report came in.
        items: The reportData of every part, in seqNo order (typed by the version's
            ReportDataType).
    """

    station: str
    request_id: int
    generated_at: datetime.datetime
    parts: int
    items: list[R]


class ReportIncomplete(OcppError):
    """A report did not arrive whole: ``missing`` seqNos (empty when not even the last part
    came), ``received`` parts, or a part numbered after the last (``detail``).

    Args:
        station: The station's identity.
        request_id: The report's requestId.
        missing: The seqNos missing before the last part.
        received: How many parts arrived.
        detail: What went wrong, in words (the exception's message).
    """

    def __init__(self, station: str, request_id: int, missing: list[int], received: int, detail: str) -> None:
        self.station = station
        self.request_id = request_id
        self.missing = missing
        self.received = received
        super().__init__(f"report {request_id} of {station}: {detail}")


class ReportRefused(OcppError):
    """The station answered GetBaseReport / GetReport with another status than Accepted
    (``status``: NotSupported, Rejected or EmptyResultSet): no report follows (B07.FR.05)."""

    def __init__(self, status: str) -> None:
        self.status = status
        super().__init__(f"report request answered {status}")


@dataclass
class _Parts(Generic[R]):
    parts: dict[int, NotifyReportLike[R]] = field(default_factory=dict)
    last: int | None = None
    error: str | None = None
    waiter: asyncio.Future[Report[R]] | None = None


class ReportAssembler(Generic[R]):
    """Collects NotifyReport parts per (station, requestId) into :class:`Report` objects.
    One assembler serves every station of a CSMS (identities compared without case).
    ``keep``: how many finished reports, and how many unfinished ones, nobody waits for yet
    are kept (the oldest go first)."""

    def __init__(self, *, keep: int = 256) -> None:
        self._open: dict[tuple[str, int], _Parts[R]] = {}
        self._done: dict[tuple[str, int], Report[R]] = {}
        self._keep = keep

    def feed(self, station: str, message: NotifyReportLike[R]) -> Report[R] | None:
        """Take one part; returns the report when this part completed it.

        Args:
            station: The identity of the station that sent the part (compared without case).
            message: The NotifyReport request (any version's): its requestId, seqNo, tbc,
                generatedAt and reportData. A seqNo already received is ignored.
        """
        key = (station.casefold(), message.request_id)
        state = self._open.get(key)
        if state is None:
            state = self._open[key] = _Parts()
            self._evict()
        if message.seq_no in state.parts:
            return None  # a repeated part (e.g. a retry): the first one counts
        state.parts[message.seq_no] = message
        if not message.tbc:
            if state.last is not None and state.last != message.seq_no:
                state.error = f"two last parts ({state.last} and {message.seq_no})"
            state.last = message.seq_no if state.last is None else min(state.last, message.seq_no)
        if state.last is not None and max(state.parts) > state.last:
            state.error = f"part {max(state.parts)} after the last part {state.last}"
        if state.error is not None:
            self._fail(key, state)
            return None
        if state.last is None or len(state.parts) != state.last + 1:
            return None
        ordered = [state.parts[i] for i in range(state.last + 1)]
        items: list[R] = []
        for part in ordered:
            if not isinstance(part.report_data, msgspec.UnsetType):
                items.extend(part.report_data)
        report = Report(station, message.request_id, ordered[0].generated_at, len(ordered), items)
        del self._open[key]
        if state.waiter is not None and not state.waiter.done():
            state.waiter.set_result(report)
        else:
            self._done[key] = report
            while len(self._done) > self._keep:
                self._done.pop(next(iter(self._done)))
        return report

    def _evict(self) -> None:
        """Unfinished reports nobody waits for (unsolicited, or abandoned) are bounded too."""
        idle = [k for k, s in self._open.items() if s.waiter is None]
        for key in idle[: max(0, len(idle) - self._keep)]:
            del self._open[key]

    def _fail(self, key: tuple[str, int], state: _Parts[R]) -> None:
        if state.waiter is not None and not state.waiter.done():
            state.waiter.set_exception(self._incomplete(key, state))
            del self._open[key]

    def _incomplete(self, key: tuple[str, int], state: _Parts[R]) -> ReportIncomplete:
        last = state.last
        missing = [] if last is None else [i for i in range(last + 1) if i not in state.parts]
        if state.error is not None:
            detail = state.error
        elif last is None:
            detail = f"the last part (tbc false) did not arrive; {len(state.parts)} parts received"
        else:
            detail = f"parts {missing} missing of {last + 1}"
        return ReportIncomplete(key[0], key[1], missing, len(state.parts), detail)

    def expect(self, station: str, request_id: int) -> asyncio.Future[Report[R]]:
        """A future for the report, registered before the request goes out (parts may arrive
        before the request's answer is processed).

        Args:
            station: The station's identity (compared without case).
            request_id: The requestId of the request about to be sent.
        """
        key = (station.casefold(), request_id)
        future: asyncio.Future[Report[R]] = asyncio.get_running_loop().create_future()
        done = self._done.pop(key, None)
        if done is not None:
            future.set_result(done)
            return future
        state = self._open.setdefault(key, _Parts())
        if state.error is not None:
            future.set_exception(self._incomplete(key, state))
            del self._open[key]
        else:
            state.waiter = future
        return future

    async def wait(self, station: str, request_id: int, timeout: float | None) -> Report[R]:
        """The whole report; :class:`ReportIncomplete` if it is not whole within ``timeout``.

        Args:
            station: The station's identity (compared without case).
            request_id: The report's requestId.
            timeout: Seconds to wait for every part; None: no limit.
        """
        future = self.expect(station, request_id)
        return await self._await(future, station, request_id, timeout)

    async def _await(self, future: asyncio.Future[Report[R]], station: str, request_id: int, timeout: float | None) -> Report[R]:
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            key = (station.casefold(), request_id)
            state = self._open.pop(key, None)
            raise (self._incomplete(key, state) if state is not None else ReportIncomplete(station, request_id, [], 0, "nothing arrived")) from None

    def forget(self, station: str, request_id: int) -> None:
        """Stop waiting for one report (its request failed or was refused).

        Args:
            station: The station's identity (compared without case).
            request_id: The report's requestId; a waiting future is cancelled, parts already
                received are dropped.
        """
        key = (station.casefold(), request_id)
        state = self._open.pop(key, None)
        if state is not None and state.waiter is not None:
            state.waiter.cancel()
        self._done.pop(key, None)

    def discard(self, station: str) -> None:
        """Forget every open and finished report of ``station`` (e.g. when it disconnects)."""
        folded = station.casefold()
        for table in (self._open, self._done):
            for key in [k for k in table if k[0] == folded]:
                del table[key]


async def request_report(
    session: Session,
    route: Route[Req, Res],
    request: Req,
    assembler: ReportAssembler[R],
    *,
    timeout: float | None = 60.0,
) -> Report[R]:
    """Send a GetBaseReport or GetReport (``route``: the version's ``routing.GET_BASE_REPORT``
    or ``GET_REPORT``) and return the whole report; :class:`ReportRefused` when the station
    answers other than Accepted, :class:`ReportIncomplete` when parts are missing at the end
    of ``timeout`` (which bounds the answer and the report together).

    Args:
        session: The station's session.
        route: ``routing.GET_BASE_REPORT`` or ``routing.GET_REPORT`` of the station's version.
        request: The request; its requestId names the report.
        assembler: The assembler the CSMS's ``on_notify_report`` feeds.
        timeout: Seconds for the answer and every part together; None: no limit.
    """
    request_id = msgspec.to_builtins(request)["requestId"]
    future = assembler.expect(session.identity, int(request_id))
    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        answer = await session.call(route, request, timeout)
    except BaseException:
        assembler.forget(session.identity, int(request_id))
        raise
    status = str(msgspec.to_builtins(answer)["status"])
    if status != "Accepted":
        assembler.forget(session.identity, int(request_id))
        raise ReportRefused(status)
    left = None if timeout is None else max(0.0, timeout - (loop.time() - start))
    return await assembler._await(future, session.identity, int(request_id), left)


# -- splitting by ItemsPerMessage / BytesPerMessage (DeviceDataCtrlr) ------------------------


@dataclass(frozen=True)
class Limits:
    """ItemsPerMessage and BytesPerMessage of one action; None: not reported (no limit).

    Attributes:
        items: ItemsPerMessage: the most items in one request (B05.FR.11, B06.FR.05,
            B08.FR.06).
        bytes: BytesPerMessage: the longest CALL frame, in bytes, the station accepts
            (B06.FR.17, B08.FR.18).
    """

    items: int | None = None
    bytes: int | None = None


@dataclass(frozen=True)
class MessageLimits:
    """The station's DeviceDataCtrlr limits for the three actions that carry lists.

    Attributes:
        get_variables: ItemsPerMessage / BytesPerMessage [GetVariables].
        set_variables: ItemsPerMessage / BytesPerMessage [SetVariables].
        get_report: ItemsPerMessage / BytesPerMessage [GetReport].
    """

    get_variables: Limits = Limits()
    set_variables: Limits = Limits()
    get_report: Limits = Limits()

    def of(self, action: Literal["GetVariables", "SetVariables", "GetReport"]) -> Limits:
        """The limits of one action.

        Args:
            action: ``GetVariables``, ``SetVariables`` or ``GetReport``.
        """
        return {"GetVariables": self.get_variables, "SetVariables": self.set_variables, "GetReport": self.get_report}[action]


_LIMIT_ACTIONS = ("GetVariables", "SetVariables", "GetReport")


async def read_limits(session: Session, route: Route[Req, Res], *, timeout: float | None = 30.0) -> MessageLimits:
    """Read DeviceDataCtrlr.ItemsPerMessage and BytesPerMessage [GetVariables, SetVariables,
    GetReport] with one GetVariables (``route``: the version's ``routing.GET_VARIABLES``).

    A value not Accepted, not a positive integer or not reported means no limit (None).

    Args:
        session: The station's session.
        route: ``routing.GET_VARIABLES`` of the station's version.
        timeout: Seconds to wait for the answer; None: no limit.
    """
    wanted = [
        {"component": {"name": "DeviceDataCtrlr"}, "variable": {"name": name, "instance": action}}
        for action in _LIMIT_ACTIONS
        for name in ("ItemsPerMessage", "BytesPerMessage")
    ]
    request = route.request_codec.decode(msgspec.json.encode({"getVariableData": wanted}))
    answer = await session.call(route, request, timeout)
    found: dict[tuple[str, str], int] = {}
    for result in msgspec.to_builtins(answer)["getVariableResult"]:
        value = result.get("attributeValue")
        if result.get("attributeStatus") == "Accepted" and isinstance(value, str) and value.isdigit() and int(value) > 0:
            found[(result["variable"]["name"], result["variable"].get("instance", ""))] = int(value)

    def limits(action: str) -> Limits:
        return Limits(found.get(("ItemsPerMessage", action)), found.get(("BytesPerMessage", action)))

    return MessageLimits(limits("GetVariables"), limits("SetVariables"), limits("GetReport"))


def split(
    items: Sequence[T],
    limits: Limits,
    *,
    action: str,
    field_name: str,
    encode: Callable[[T], bytes] = msgspec.json.encode,
    envelope: dict[str, object] | None = None,
) -> list[list[T]]:
    """Cut ``items`` (the list member ``field_name`` of ``action``'s request, e.g.
    "getVariableData") into batches within ``limits``: at most ``limits.items`` items and
    CALL frames of at most ``limits.bytes`` bytes (the request's other members in
    ``envelope``; the message id counted at its longest, 36 characters). An item that alone
    exceeds the byte limit is a batch of its own.

    Args:
        items: The items of the request's list.
        limits: The station's limits for ``action``.
        action: The CALL's action, part of the measured frame.
        field_name: The JSON name of the list member.
        encode: How one item is encoded to measure it (msgspec JSON by default).
        envelope: The request's other members, with values as long as they will be.
    """
    frame = [2, "x" * 36, action, {**(envelope or {}), field_name: []}]
    overhead = len(msgspec.json.encode(frame))
    sizes = [len(encode(item)) for item in items]
    indexed = list(range(len(items)))
    batches = split_by_size(indexed, max_items=limits.items, max_bytes=limits.bytes, size=lambda i: sizes[i], overhead=overhead)
    return [[items[i] for i in batch] for batch in batches]


def _attribute_key(item: object) -> tuple[object, ...]:
    """What a SetVariableData item sets: component (name, instance, EVSE, connector), variable
    (name, instance) and attributeType. Names and instances are case-insensitive (2.x Part 2,
    ComponentType and VariableType); an omitted attributeType is Actual (B05.FR.13); an omitted
    instance is the empty one (B06.FR.15)."""
    component, variable = getattr(item, "component"), getattr(item, "variable")
    evse = getattr(component, "evse", msgspec.UNSET)
    where = None if evse is msgspec.UNSET else (evse.id, getattr(evse, "connector_id", msgspec.UNSET))
    kind = getattr(item, "attribute_type", msgspec.UNSET)
    return (
        component.name.casefold(),
        "" if component.instance is msgspec.UNSET else component.instance.casefold(),
        where,
        variable.name.casefold(),
        "" if variable.instance is msgspec.UNSET else variable.instance.casefold(),
        "Actual" if kind is msgspec.UNSET else getattr(kind, "value", kind),
    )


def check_set_variables(items: Sequence[object]) -> None:
    """Refuse SetVariableData ``items`` that set the same attribute twice: "The CSMS SHALL NOT
    include multiple SetVariableData elements, in a single SetVariablesRequest, with the same
    Component, Variable and AttributeType combination" (B05.FR.13; an omitted attributeType
    counts as Actual). Raises LocalError naming both positions and the attribute.

    Args:
        items: The SetVariableDataType items of one request (any OCPP 2.x version).
    """
    seen: dict[tuple[object, ...], int] = {}
    for i, item in enumerate(items):
        key = _attribute_key(item)
        first = seen.setdefault(key, i)
        if first != i:
            component, variable = getattr(item, "component"), getattr(item, "variable")
            raise LocalError(
                f"setVariableData[{first}] and [{i}] both set {component.name}/{variable.name} "
                f"{key[-1]}: a SetVariablesRequest names each attribute once (B05.FR.13)"
            )


async def call_in_batches(
    session: Session,
    route: Route[Req, Res],
    items: Sequence[T],
    make: Callable[[list[T]], Req],
    limits: Limits,
    *,
    field_name: str,
    timeout: float | None = 30.0,
) -> list[Res]:
    """Send one ``route`` CALL per batch of ``items`` (``make(batch)`` builds the request, e.g.
    ``lambda batch: GetVariablesRequest(get_variable_data=batch)``), one after the other;
    returns the answers in order. Items are encoded with msgspec to measure them.

    Args:
        session: The station's session.
        route: ``routing.GET_VARIABLES`` or ``routing.SET_VARIABLES`` of the station's version.
        items: The request items (GetVariableDataType / SetVariableDataType).
        make: Builds the request of one batch.
        limits: The station's limits for the action (:meth:`MessageLimits.of`), which this
            keeps to (B05.FR.11, B06.FR.05, B06.FR.17).
        field_name: The JSON name of the request's list member, e.g. "getVariableData".
        timeout: Seconds to wait for each answer; None: no limit.

    Raises:
        LocalError: SetVariables items that name the same attribute twice (B05.FR.13,
            :func:`check_set_variables`); nothing is sent then.
    """
    if route.action == "SetVariables":
        check_set_variables(items)
    batches = split(items, limits, action=route.action, field_name=field_name)
    answers: list[Res] = []
    for batch in batches:
        answers.append(await session.call(route, make(batch), timeout))
    return answers


async def request_reports_in_batches(
    session: Session,
    route: Route[Req, Res],
    items: Sequence[T],
    make: Callable[[list[T], int], Req],
    limits: Limits,
    assembler: ReportAssembler[R],
    *,
    request_ids: Iterator[int],
    timeout: float | None = 60.0,
) -> list[Report[R]]:
    """GetReport for many componentVariable ``items`` within the station's
    ItemsPerMessage[GetReport] / BytesPerMessage[GetReport] (B08.FR.06): one GetReport per
    batch, ``make(batch, request_id)`` builds it (a fresh id from ``request_ids`` each, as
    every report is told apart by its requestId), the reports awaited one after the other. A
    batch the station answers EmptyResultSet (B08.FR.15) gives no report; any other refusal
    raises :class:`ReportRefused`.

    Args:
        session: The station's session.
        route: ``routing.GET_REPORT`` of the station's version.
        items: The ComponentVariableType items to report on.
        make: Builds the GetReport of one batch with its requestId.
        limits: The station's ItemsPerMessage / BytesPerMessage [GetReport].
        assembler: The assembler the CSMS's ``on_notify_report`` feeds.
        request_ids: Fresh requestIds, one taken per batch.
        timeout: Seconds for each batch's answer and report together; None: no limit.
    """
    reports: list[Report[R]] = []
    for batch in split(items, limits, action=route.action, field_name="componentVariable", envelope={"requestId": 2**31 - 1}):
        try:
            reports.append(await request_report(session, route, make(batch, next(request_ids)), assembler, timeout=timeout))
        except ReportRefused as exc:
            if exc.status != "EmptyResultSet":
                raise
    return reports


# -- boot-time configuration (B02) ----------------------------------------------------------


class BootConfiguration:
    """The boot-time configuration recipe: answer Pending, configure, then Accepted.

    ``configure(session)`` runs once the Pending answer is on the wire; it returns True when the
    station is configured. ``trigger``: the version's ``routing.TRIGGER_MESSAGE``, used to ask for
    the next BootNotification at once (F06; otherwise the station boots again after the
    interval). A station stays configured for the life of its session (:meth:`reset` forgets
    it, e.g. after a firmware update). ``timeout``: seconds to wait for the TriggerMessage's
    answer (None: no limit)::

        flow = BootConfiguration(configure, routing.TRIGGER_MESSAGE)

        async def on_boot_notification(self, request, context):
            status = flow.status(context)  # "Accepted" or "Pending" (then configure runs)
            return BootNotificationResponse(current_time=now(), interval=30 if status == "Pending" else 300,
                                            status=RegistrationStatusEnumType(status))
    """

    STATE_KEY = "ocppgen.boot_configured"

    def __init__(
        self,
        configure: Callable[[Session], Awaitable[bool]],
        trigger: Route[Req, Res] | None = None,
        *,
        timeout: float | None = 30.0,
    ) -> None:
        self.configure = configure
        self._trigger: Callable[[Session], Awaitable[object]] | None = None
        if trigger is not None:
            request = trigger.request_codec.decode(b'{"requestedMessage":"BootNotification"}')
            route = trigger

            async def ask(session: Session) -> object:
                return await session.call(route, request, timeout)

            self._trigger = ask
        self._running: set[str] = set()

    def configured(self, session: Session) -> bool:
        """Whether ``session``'s station was configured (``configure`` returned True)."""
        return session.state.get(self.STATE_KEY) is True

    def reset(self, session: Session) -> None:
        """Forget that ``session``'s station was configured: its next BootNotification is
        answered Pending and the recipe runs again."""
        session.state.pop(self.STATE_KEY, None)

    def status(self, context: CallContext[C]) -> Literal["Accepted", "Pending"]:
        """What to answer the BootNotification being handled: Accepted once configured; else
        Pending, with the configuration scheduled after the answer (once per station at a time).

        Args:
            context: The BootNotification handler's call context: its session, and the
                after-response hook that starts ``configure``.
        """
        session = context.session
        if self.configured(session):
            return "Accepted"
        if session.key not in self._running:
            self._running.add(session.key)
            context.after_response(lambda: self._run(session))
        return "Pending"

    async def _run(self, session: Session) -> None:
        try:
            done = await self.configure(session)
        finally:
            self._running.discard(session.key)
        if not done:
            return
        session.state[self.STATE_KEY] = True
        if self._trigger is not None:
            await self._trigger(session)
