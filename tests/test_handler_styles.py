"""Plain ``def`` handlers (answered by the connection's reader, no task) against ``async def``
handlers (each in its own task): the same frames, errors, events, log records and order.

A connection calls the handler method of a CALL that arrives while none of its handlers runs
from its reader; a plain method's answer is written at once. The differential tests below run
one script of frames against two handlers that differ only in ``def``/``async def`` and require
identical transcripts. The CALLERRORs are OCPP-J's (2.0.1 Part 4 section 4.2.3, 4.3):
NotSupported for an unimplemented action, the handler's own ``CallError``, InternalError for a
handler that raised, returned an invalid response or missed ``handler_timeout``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from ocppgen.generated.runtime.config import ServerOptions
from ocppgen.generated.runtime.connection import Connection
from ocppgen.generated.runtime.events import Event, HandlerFinished
from ocppgen.generated.runtime.routing import Role
from ocppgen.generated.runtime.session import Session
from ocppgen.generated.v201 import csms as csms201, enums as e201, messages as m201
from ocppgen.generated.v21 import csms as csms21, messages as m21
from ocppgen.testing.memory import MemorySocket, memory_pair

from tests.helpers import NOW, run

HB = m201.HeartbeatResponse(current_time=NOW)
BOOT = m201.BootNotificationResponse(current_time=NOW, interval=60, status=e201.RegistrationStatusEnumType.Accepted)


class Recorder:
    """What a connection did besides its frames: ``on_event`` calls and the handlers' trail."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.trail: list[str] = []

    def on_event(self, session: object, event: Event) -> None:
        if isinstance(event, HandlerFinished):  # its seconds are a measurement
            self.events.append(("HandlerFinished", event.message_id, event.action, event.outcome, event.code))
        else:
            self.events.append((type(event).__name__, getattr(event, "message_id", None)))


def csms_handlers(recorder: Recorder) -> tuple[csms201.CsmsHandler, csms201.CsmsHandler]:
    """Two 2.0.1 CSMS handlers answering alike, one with plain methods, one with async ones."""

    def boot(request: m201.BootNotificationRequest, context: csms201.Context) -> m201.BootNotificationResponse:
        recorder.trail.append("boot")

        async def later() -> None:
            recorder.trail.append("after boot")
            await context.client.clear_cache(m201.ClearCacheRequest(), timeout=None)

        context.after_response(later)
        return BOOT

    def authorize(request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse:
        raise csms201.CallError("SecurityError", "not registered", {"rule": "B03.FR.07"})

    def status(request: m201.StatusNotificationRequest, context: csms201.Context) -> m201.StatusNotificationResponse:
        raise RuntimeError("a bug")

    def meter(request: m201.MeterValuesRequest, context: csms201.Context) -> m201.MeterValuesResponse:
        return HB  # type: ignore[return-value]  # the wrong response: refused, answered InternalError

    def notify(request: m201.NotifyEventRequest, context: csms201.Context) -> m201.NotifyEventResponse:
        raise csms201.CallError("Nonsense")  # type: ignore[arg-type]  # no 2.0.1 code: InternalError

    def cancelled(request: m201.SecurityEventNotificationRequest, context: csms201.Context) -> m201.SecurityEventNotificationResponse:
        raise asyncio.CancelledError  # as a cancelled handler task: unanswered until handler_timeout

    def heartbeat(request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
        recorder.trail.append("heartbeat")
        return HB

    plain = {
        "on_boot_notification": boot, "on_authorize": authorize, "on_status_notification": status,
        "on_meter_values": meter, "on_notify_event": notify, "on_security_event_notification": cancelled,
        "on_heartbeat": heartbeat,
    }

    def as_async(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        async def method(self: object, request: Any, context: Any) -> Any:
            return function(request, context)

        return method

    def as_plain(function: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: object, request: Any, context: Any) -> Any:
            return function(request, context)

        return method

    Plain = type("Plain", (csms201.CsmsHandler,), {name: as_plain(f) for name, f in plain.items()})
    Async = type("Async", (csms201.CsmsHandler,), {name: as_async(f) for name, f in plain.items()})
    return Plain(), Async()


SCRIPT = [
    '[2,"b1","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]',
    '[2,"h1","Heartbeat",{}]',
    '[2,"a1","Authorize",{"idToken":{"idToken":"X","type":"ISO14443"}}]',
    '[2,"s1","StatusNotification",{"timestamp":"2024-01-01T00:00:00Z","connectorStatus":"Available","evseId":1,"connectorId":1}]',
    '[2,"m1","MeterValues",{"evseId":1,"meterValue":[{"timestamp":"2024-01-01T00:00:00Z","sampledValue":[{"value":1}]}]}]',
    '[2,"n1","NotifyEvent",{"generatedAt":"2024-01-01T00:00:00Z","seqNo":0,"eventData":[{"eventId":1,'
    '"timestamp":"2024-01-01T00:00:00Z","trigger":"Alerting","actualValue":"1","eventNotificationType":"HardWiredNotification",'
    '"component":{"name":"C"},"variable":{"name":"V"}}]}]',
    '[2,"d1","DataTransfer",{"vendorId":"V"}]',  # not implemented: NotSupported
    '[2,"x1","SecurityEventNotification",{"type":"T","timestamp":"2024-01-01T00:00:00Z"}]',
    '[2,"h2","Heartbeat",{"bad":1}]',  # the core answers it (a property not in the schema)
    '[2,"h3","Heartbeat",{}]',
]


async def opened(
    handler: object, binding: Any = csms201.BINDING, *, tested: MemorySocket | None = None, **options: Any
) -> tuple[Connection, MemorySocket, asyncio.Task[None], AsyncIterator[str | bytes]]:
    """A connection running ``handler`` over ``tested`` (a memory socket of the test's own
    kind, or a plain one), and the peer's socket and frames."""
    if tested is None:
        tested, peer = memory_pair()
    else:
        peer = MemorySocket(("memory", 1))
        tested.peer, peer.peer = peer, tested
    session = Session("CS-1", Role.CSMS, registration_gate=False)
    connection = Connection(tested, binding, session, handler, ServerOptions(**options))
    session.attach(connection, binding.version)
    return connection, peer, asyncio.ensure_future(connection.run()), peer.__aiter__()


async def frame(frames: AsyncIterator[str | bytes], timeout: float = 2.0) -> Any:
    return json.loads(await asyncio.wait_for(frames.__anext__(), timeout))


async def transcript(style: str, mode: str, caplog: pytest.LogCaptureFixture) -> tuple[Any, ...]:
    """Run SCRIPT against the plain or the async handler: the frames the CSMS sent (its own
    CALLs' ids blanked), the ``on_event`` calls, the log records and the handlers' trail.
    ``one-by-one``: each frame after the answer to the one before (OCPP-J's rule for a peer,
    2.0.1 Part 4 section 4.1.1); ``paced``: each frame in its own read of the socket, without
    waiting for answers; ``back-to-back``: all frames at once, read by one run of the reader."""
    recorder = Recorder()
    handler = csms_handlers(recorder)[0 if style == "plain" else 1]
    connection, peer, task, frames = await opened(handler, on_event=recorder.on_event, handler_timeout=0.5)
    got: list[Any] = []
    caplog.clear()

    async def answer() -> None:
        """Read up to the next answer; the CSMS's own CALLs on the way are recorded and answered."""
        while True:
            got.append(await frame(frames))
            if got[-1][0] != 2:
                return
            await peer.send(json.dumps([3, got[-1][1], {"status": "Accepted"}]))

    answers = len(SCRIPT)
    if mode == "one-by-one":
        for text in SCRIPT:
            await peer.send(text)
            if '"x1"' not in text:  # that one is answered only at its deadline, later
                await answer()
                answers -= 1
    else:
        for text in SCRIPT:
            await peer.send(text)
            if mode == "paced":
                await asyncio.sleep(0.02)
    for _ in range(answers):
        await answer()
    await asyncio.sleep(0.05)
    await peer.close()
    await task
    records = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "ocppgen"]
    ids = {f[1] for f in got if f[0] == 2}
    frames_seen = [f if f[0] != 2 else [2, "<id>", *f[2:]] for f in got]
    events = [e if e[1] not in ids else (e[0], "<id>", *e[2:]) for e in recorder.events]
    return frames_seen, events, records, recorder.trail


@pytest.mark.parametrize("mode", ["one-by-one", "paced"])
def test_plain_and_async_handlers_give_the_same_transcript(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ocppgen")
    plain = run(transcript("plain", mode, caplog))
    awaited = run(transcript("async", mode, caplog))
    assert plain == awaited
    frames_seen, events, records, trail = plain
    by_id = {f[1]: f for f in frames_seen if f[0] in (3, 4)}
    assert by_id["b1"][0] == 3 and by_id["h1"] == [3, "h1", {"currentTime": "2024-01-01T00:00:00Z"}]
    assert by_id["a1"] == [4, "a1", "SecurityError", "not registered", {"rule": "B03.FR.07"}]  # the handler's choice
    assert by_id["s1"][:3] == [4, "s1", "InternalError"] and "RuntimeError" in by_id["s1"][3]  # a handler bug
    assert by_id["m1"][:3] == [4, "m1", "InternalError"]  # an invalid response is refused
    assert by_id["n1"][:3] == [4, "n1", "InternalError"]  # a CALLERROR code of no 2.0.1 kind
    assert by_id["d1"][:3] == [4, "d1", "NotSupported"]  # not implemented
    assert by_id["x1"][:3] == [4, "x1", "InternalError"]  # cancelled: answered at its deadline
    assert by_id["h2"][:3] == [4, "h2", "FormatViolation"]  # answered by the core: no handler ran
    assert [2, "<id>", "ClearCache", {}] in frames_seen
    assert frames_seen.index([2, "<id>", "ClearCache", {}]) > frames_seen.index(by_id["b1"])  # after the answer
    assert [f[1] for f in frames_seen if f[0] != 2] == ["b1", "h1", "a1", "s1", "m1", "n1", "d1", "h2", "h3", "x1"]
    assert ("HandlerFinished", "s1", "StatusNotification", "error", "InternalError") in events
    assert ("HandlerTimedOut", "x1") in events
    assert any("the StatusNotification handler raised" in text for _, text in records)
    assert trail == ["boot", "after boot", "heartbeat", "heartbeat"]


def test_frames_read_in_one_go_get_the_same_answers_in_the_same_handler_order(caplog: pytest.LogCaptureFixture) -> None:
    """When the reader takes several frames in one run, the task path starts every handler
    before any runs (and the core's own answers overtake theirs); the plain path answers each
    before reading the next, as the task path does when the frames arrive in separate reads
    (test above). Each CALL gets the same answer, and the handlers' answers the same order."""
    plain, _, _, _ = run(transcript("plain", "back-to-back", caplog))
    awaited, _, _, _ = run(transcript("async", "back-to-back", caplog))
    assert sorted(map(str, plain)) == sorted(map(str, awaited))
    handled = ["b1", "h1", "a1", "s1", "m1", "n1", "d1", "h3", "x1"]
    for got in (plain, awaited):
        assert [f[1] for f in got if f[0] != 2 and f[1] in handled] == handled


def test_a_plain_handler_runs_in_the_reader_and_an_async_one_in_its_own_task() -> None:
    seen: dict[str, asyncio.Task[Any] | None] = {}

    class Handler(csms201.CsmsHandler):
        def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
            seen["plain"] = asyncio.current_task()
            return HB

        async def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse:
            seen["async"] = asyncio.current_task()
            async with asyncio.timeout(0.01):  # cancels the handler's own task, never the reader
                await asyncio.sleep(1)
            raise AssertionError("not reached")

    async def body() -> None:
        connection, peer, task, frames = await opened(Handler())
        await peer.send('[2,"h","Heartbeat",{}]')
        assert (await frame(frames))[:2] == [3, "h"]
        await peer.send('[2,"a","Authorize",{"idToken":{"idToken":"X","type":"ISO14443"}}]')
        assert (await frame(frames))[:3] == [4, "a", "InternalError"]  # TimeoutError: a handler failure
        await peer.send('[2,"h2","Heartbeat",{}]')
        assert (await frame(frames))[:2] == [3, "h2"]  # the reader lives on
        assert seen["plain"] is task and seen["async"] is not task and seen["async"] is not None
        await peer.close()
        await task

    run(body())


def test_answers_leave_in_the_order_the_handlers_finish() -> None:
    release = asyncio.Event

    class Handler(csms201.CsmsHandler):
        def __init__(self) -> None:
            self.release: asyncio.Event | None = None

        async def on_boot_notification(self, request: m201.BootNotificationRequest, context: csms201.Context) -> m201.BootNotificationResponse:
            return BOOT  # answers at once, but in its task

        def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
            return HB

        async def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse:
            assert self.release is not None
            await self.release.wait()  # a slow handler
            return m201.AuthorizeResponse(id_token_info={"status": "Accepted"})  # type: ignore[arg-type]

    async def body() -> None:
        handler = Handler()
        handler.release = release()
        connection, peer, task, frames = await opened(handler)
        # back to back: the async handler's task was started first, so its answer leaves first
        # (a plain handler answered by the reader at once would overtake it)
        await peer.send('[2,"b","BootNotification",{"reason":"PowerUp","chargingStation":{"model":"M","vendorName":"V"}}]')
        await peer.send('[2,"h","Heartbeat",{}]')
        assert [(await frame(frames))[1] for _ in range(2)] == ["b", "h"]
        # a slow async handler does not hold up a plain one behind it
        await peer.send('[2,"a","Authorize",{"idToken":{"idToken":"X","type":"ISO14443"}}]')
        await peer.send('[2,"h2","Heartbeat",{}]')
        assert (await frame(frames))[1] == "h2"
        handler.release.set()
        assert (await frame(frames))[:2] == [3, "a"]
        await peer.close()
        await task

    run(body())


def test_a_plain_handler_may_return_an_awaitable() -> None:
    class Handler(csms201.CsmsHandler):
        def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> Awaitable[m201.HeartbeatResponse]:
            return self.later()

        async def later(self) -> m201.HeartbeatResponse:
            await asyncio.sleep(0)
            return HB

        def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> Awaitable[m201.AuthorizeResponse]:
            future: asyncio.Future[m201.AuthorizeResponse] = asyncio.get_running_loop().create_future()
            future.set_exception(csms201.CallError("SecurityError"))
            return future

    async def body() -> None:
        connection, peer, task, frames = await opened(Handler())
        await peer.send('[2,"h","Heartbeat",{}]')
        assert await frame(frames) == [3, "h", {"currentTime": "2024-01-01T00:00:00Z"}]
        await peer.send('[2,"a","Authorize",{"idToken":{"idToken":"X","type":"ISO14443"}}]')
        assert (await frame(frames))[:3] == [4, "a", "SecurityError"]
        await peer.close()
        await task

    run(body())


def test_a_plain_send_handler_runs_and_is_never_answered() -> None:
    got: list[int] = []
    recorder = Recorder()

    class Handler(csms21.CsmsHandler):
        def on_notify_periodic_event_stream(self, message: m21.NotifyPeriodicEventStream, context: csms21.Context) -> None:
            got.append(message.id)

        def on_heartbeat(self, request: m21.HeartbeatRequest, context: csms21.Context) -> m21.HeartbeatResponse:
            return m21.HeartbeatResponse(current_time=NOW)

    async def body() -> None:
        connection, peer, task, frames = await opened(Handler(), csms21.BINDING, on_event=recorder.on_event)
        await peer.send('[6,"s","NotifyPeriodicEventStream",{"id":7,"pending":0,"basetime":"2024-01-01T00:00:00Z","data":[{"t":0,"v":"1"}]}]')
        await peer.send('[2,"h","Heartbeat",{}]')
        assert (await frame(frames))[:2] == [3, "h"]  # the SEND got no answer (2.1 Part 4 section 4.1.5)
        assert got == [7]
        assert ("HandlerFinished", "s", "NotifyPeriodicEventStream", "send", None) in recorder.events
        await peer.close()
        await task

    run(body())


def test_an_on_event_hook_that_raises_after_a_plain_answer_does_not_end_the_connection() -> None:
    def on_event(session: object, event: Event) -> None:
        if isinstance(event, HandlerFinished):
            raise RuntimeError("a broken metrics hook")

    class Handler(csms201.CsmsHandler):
        def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
            return HB

    async def body() -> None:
        loop = asyncio.get_running_loop()
        reported: list[BaseException | None] = []
        loop.set_exception_handler(lambda loop, context: reported.append(context.get("exception")))
        connection, peer, task, frames = await opened(Handler(), on_event=on_event)
        for mid in ("h1", "h2"):
            await peer.send(f'[2,"{mid}","Heartbeat",{{}}]')
            assert (await frame(frames))[:2] == [3, mid]  # as when the hook fails a handler's task
        assert len(reported) == 2 and all(isinstance(e, RuntimeError) for e in reported)
        await peer.close()
        await task

    run(body())


class SlowSocket(MemorySocket):
    """A socket that hands each message over at once (``ordered_send``, as websockets' does) and
    then suspends for a while after a CALLERROR, as a send waiting for the buffer to drain."""

    ordered_send = True

    async def send(self, message: str | bytes, /) -> None:
        await super().send(message)
        if isinstance(message, str) and message.startswith("[4,"):
            await asyncio.sleep(0.05)


def test_a_lone_answer_written_without_the_lock_never_overtakes_a_batch_being_written() -> None:
    """Two handlers miss their deadline: the timer's writer sends both InternalErrors as one
    batch under the write lock and suspends after the first. A plain handler's answer made
    meanwhile waits for the lock, so the wire order is the order the core made the frames in."""
    release = asyncio.Event()

    class Handler(csms201.CsmsHandler):
        async def on_authorize(self, request: m201.AuthorizeRequest, context: csms201.Context) -> m201.AuthorizeResponse:
            await release.wait()
            raise AssertionError("cancelled at its deadline")

        def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
            return HB

    async def body() -> None:
        _, peer, task, frames = await opened(Handler(), tested=SlowSocket(("memory", 0)), handler_timeout=0.1)
        for mid in ("a1", "a2"):
            await peer.send(f'[2,"{mid}","Authorize",{{"idToken":{{"idToken":"X","type":"ISO14443"}}}}]')
        await asyncio.sleep(0.13)  # both timed out; the first InternalError is being written
        await peer.send('[2,"h","Heartbeat",{}]')
        got = [await frame(frames) for _ in range(3)]
        assert [f[:3] for f in got] == [[4, "a1", "InternalError"], [4, "a2", "InternalError"], [3, "h", {"currentTime": "2024-01-01T00:00:00Z"}]]
        await peer.close()
        await task

    run(body())


def test_a_lone_answer_is_written_without_the_lock_when_no_one_writes() -> None:
    """With nothing else being written, the plain handler's answer goes out at once (the write
    lock is never taken: a writer holding it would make this send wait)."""
    taken: list[bool] = []

    class Watching(MemorySocket):
        ordered_send = True
        connection: Connection | None = None

        async def send(self, message: str | bytes, /) -> None:
            assert self.connection is not None
            taken.append(self.connection._write_lock.locked())
            await super().send(message)

    class Handler(csms201.CsmsHandler):
        def on_heartbeat(self, request: m201.HeartbeatRequest, context: csms201.Context) -> m201.HeartbeatResponse:
            return HB

    async def body() -> None:
        tested = Watching(("memory", 0))
        tested.connection, peer, task, frames = await opened(Handler(), tested=tested)
        await peer.send('[2,"h","Heartbeat",{}]')
        assert (await frame(frames))[:2] == [3, "h"]
        await peer.send('[2,"x","Heartbeat",{"bad":1}]')  # the core's own answer: through the lock
        assert (await frame(frames))[:3] == [4, "x", "FormatViolation"]
        assert taken == [False, True]
        await peer.close()
        await task

    run(body())


def test_dispatch_over_any_transport_runs_plain_and_async_handlers_alike() -> None:
    """The generated ``dispatch`` (the core's inbound path without framing) answers a plain
    handler as it answers an async one: the same Reply, the same CallError."""
    from ocppgen.generated.runtime.routing import CallError, Reply

    from tests.protocol_helpers import context

    recorder = Recorder()
    plain, awaited = csms_handlers(recorder)
    for action, payload in (("Heartbeat", b"{}"), ("Authorize", b'{"idToken":{"idToken":"X","type":"ISO14443"}}')):
        outcomes = [run(csms201.dispatch(h, action, payload, context(action=action))) for h in (plain, awaited)]
        assert outcomes[0] == outcomes[1]
        assert isinstance(outcomes[0], Reply if action == "Heartbeat" else CallError)
