"""The options of each side of the link, documented once.

``Options`` holds what applies to both sides; ``ServerOptions`` (the CSMS) and
``StationOptions`` (a charging station) add their own. All are frozen: build one with keyword
arguments, derive a variant with ``dataclasses.replace``.

    server = CsmsServer(ServerOptions(call_timeout=10, log_frames=True))
    station = StationClient(url, v201.station.BINDING, MyStation(),
                            StationOptions(basic_auth=("CS-1", password), queue=SqliteStore("q.db")))
"""

from __future__ import annotations

import asyncio
import random as _random
import ssl as _ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .protocol import Strictness, default_message_id

if TYPE_CHECKING:
    from .admission import BootPacer, ConnectionLimiter
    from .events import Event
    from .queue import DeadLetter, Delivered, MessageStore
    from .registry import SessionStore
    from .security import Authenticator
    from .signing import SigningPolicy

__all__ = ["BackOff", "Options", "ServerOptions", "StationOptions"]


@dataclass(frozen=True, kw_only=True)
class Options:
    """Options of an OCPP-J link that apply to both sides.

    Attributes:
        call_timeout: Seconds one of our CALLs waits for its answer before it fails with
            CallTimeout (a typed client's ``timeout=`` overrides it per call).
        handler_timeout: Seconds a handler has to answer a CALL; after that the peer gets
            InternalError and the handler is cancelled. None: no limit.
        max_queue: CALLs that may wait behind the outstanding one (OCPP-J allows one
            outstanding CALL per direction); one more raises QueueFull.
        strictness: Inbound payload validation: ``Strictness.STRICT`` (exactly the schema) or
            ``LENIENT`` (tolerate and report the repairable violations of non-compliant
            peers). Outbound payloads are always validated strictly.
        strictness_overrides: Per-action strictness, e.g. ``{"MeterValues": LENIENT}``.
        max_bad_messages: Invalid frames tolerated from the peer before the connection is
            closed with 1008. None: no limit.
        max_size: Largest inbound WebSocket message in bytes (larger closes with 1009).
        ping_interval: Seconds between WebSocket pings (None or 0: no pings; OCPP's
            WebSocketPingInterval, 1.6 OCPP-J section 7, 2.x Part 4 section 8.4). A link whose
            pong does not come within ``ping_timeout`` is considered dead and closed. A station
            can change it while running (``StationClient.set_ping_interval``).
        ping_timeout: Seconds to wait for a pong (None: wait for ever).
        compression: Offer/accept permessage-deflate (RFC 7692).
        open_timeout: Seconds the opening handshake may take.
        close_timeout: Seconds the closing handshake may take.
        log_frames: Log every frame (exact text, secrets redacted) at DEBUG on the logger
            ``ocppgen.frames``.
        answer_cache_size: OCPP 2.1: answers kept per station for retries that reuse a
            message id (Part 4 2.1 section 4.1.4).
        warnings_per_minute: Warnings one connection may log per minute about a misbehaving
            peer (answered CALLERRORs, invalid responses); the rest are counted and summed up.
        id_factory: Makes the message ids of our CALLs (UUID4 by default).
        on_event: Called with (session, event) for every protocol event, for diagnostics.
        signing: Signed messages (2.x Part 4 chapter 7): what this side signs, which signers it
            trusts, what it requires signed (``signing.SigningPolicy``). None: a "-Signed" action
            is unknown (NotImplemented). Needs the ``cryptography`` package.
        registration_gate: Enforce the registration rules of BootNotification in both
            directions (2.x B01-B03; 1.6 section 4.2), see ``session``. Off: every CALL passes
            (for test rigs that must break the rules on purpose).
    """

    call_timeout: float = 30.0
    handler_timeout: float | None = 30.0
    max_queue: int = 100
    strictness: Strictness = Strictness.STRICT
    strictness_overrides: Mapping[str, Strictness] = field(default_factory=dict)
    max_bad_messages: int | None = None
    max_size: int | None = 1 << 20
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    compression: bool = True
    open_timeout: float = 10.0
    close_timeout: float = 10.0
    log_frames: bool = False
    answer_cache_size: int = 64
    warnings_per_minute: int = 10
    id_factory: Callable[[], str] = default_message_id
    on_event: Callable[[object, Event], None] | None = None
    signing: SigningPolicy | None = None
    registration_gate: bool = True


@dataclass(frozen=True, kw_only=True)
class ServerOptions(Options):
    """Options of the CSMS server.

    Attributes:
        default_subprotocol: The version for a charger that offers no subprotocol at all
            (e.g. ``"ocpp1.6"``); None: such a charger is closed with 1002.
        choose_subprotocol: Per-station override ``(station_id, offered) -> subprotocol``;
            return None to fall back to the preference order.
        unknown_registration: What the CSMS does with CALLs from a station whose registration
            it does not know (it never answered its BootNotification, or forgot it: a restart
            without a persistent ``session_store``): ``accept`` (default; the station reconnected
            without booting, as Part 4 advises) or ``refuse`` (SecurityError until it boots).
        session_ttl: Seconds a disconnected station's session (registration, 2.1 answer cache,
            per-station state) is kept; a reconnect within it continues the session. None:
            kept while the process lives.
        session_store: Where sessions are persisted, so registrations survive a CSMS restart
            (``SqliteSessionStore``; a Redis one spans nodes). None: in memory only.
        authenticator: Checks each station's credentials before the upgrade (Basic auth
            password, TLS client certificate); None: no authentication (security profile 0).
        certificate_binding: Profile 3: how a client certificate names its station.
            ``serial_number`` (the spec, A00.FR.405/511): its CN is the station's serial number,
            and a BootNotification with another serial number closes the connection
            (B01.FR.11/12). ``identity``: its CN is the station identity (1.6 fleets; checked by
            ``CertificateAuthenticator(binding="identity")`` at the handshake).
        strict_identity: Refuse (HTTP 404) a station identity that is not an identifierString
            (a-z A-Z 0-9 * - _ = + | @ .), has a colon, or is longer than 48 characters, on every
            version. OCPP 2.1 links always get this check (2.1 Part 4 section 3.1.1); 2.0.1 and
            1.6 are permissive by default (2.0.1's own example identity has a space).
        connection_limiter: Admission control for reconnection storms: new connections past
            its token buckets get HTTP 503 with Retry-After (``admission.ConnectionLimiter``;
            None: off).
        boot_pacer: At most so many BootNotifications handled at once, the rest answered
            Pending with a spreading interval (``admission.BootPacer``; None: off).
        tls_read_buffer: When the server serves TLS on asyncio's loop: the most read buffer
            asyncio's TLS layer allocates per connection, in bytes (its own default is 256 KiB,
            about 290 KiB of memory per station in all; 16 KiB, one TLS record, gives about
            54 KiB). Process-wide and only ever lowered (``tls.limit_read_buffer``); None leaves
            asyncio's default. uvloop's TLS layer is left as it is.
        drain_timeout: Seconds ``stop()`` lets running handlers finish.
        replaced_close_timeout: Seconds a connection replaced by a new one for the same
            station gets for its closing handshake (in the background: the new connection is
            served at once); then its transport is aborted.
    """

    default_subprotocol: str | None = None
    choose_subprotocol: Callable[[str, Sequence[str]], str | None] | None = None
    unknown_registration: Literal["accept", "refuse"] = "accept"
    session_ttl: float | None = 24 * 3600.0
    session_store: SessionStore | None = None
    authenticator: Authenticator | None = None
    certificate_binding: Literal["serial_number", "identity"] = "serial_number"
    strict_identity: bool = False
    connection_limiter: ConnectionLimiter | None = None
    boot_pacer: BootPacer | None = None
    tls_read_buffer: int | None = 16 * 1024
    drain_timeout: float = 5.0
    replaced_close_timeout: float = 2.0

    def __post_init__(self) -> None:
        if self.tls_read_buffer is not None and self.tls_read_buffer < 16 * 1024:
            raise ValueError(
                f"ServerOptions.tls_read_buffer must be at least 16384 bytes (one TLS record) or None, got {self.tls_read_buffer}"
            )


@dataclass(frozen=True)
class BackOff:
    """Reconnect back-off of OCPP-J Part 4 (2.x section 5.3; 1.6 section 5.4): attempt k waits
    ``wait_minimum * 2**min(k, repeat_times) + random() * random_range`` seconds.

    Attributes:
        wait_minimum: RetryBackOffWaitMinimum, seconds.
        random_range: RetryBackOffRandomRange, seconds: the most the random part adds.
        repeat_times: RetryBackOffRepeatTimes: how many times the wait doubles.
    """

    wait_minimum: float = 10.0
    random_range: float = 10.0
    repeat_times: int = 5

    def delay(self, attempt: int, random: Callable[[], float]) -> float:
        """Seconds to wait before reconnection attempt ``attempt`` (0 = the first);
        ``random()`` gives the random part's fraction, in [0, 1)."""
        doublings = min(attempt, self.repeat_times)
        return float(self.wait_minimum * 2**doublings + random() * self.random_range)


@dataclass(frozen=True, kw_only=True)
class StationOptions(Options):
    """Options of a charging station's client.

    Attributes:
        basic_auth: ``(identity, password)`` for HTTP Basic auth (security profiles 1 and 2);
            a ``bytes`` password is a 1.6 binary AuthorizationKey, sent as raw bytes (OCPP-J 1.6
            section 6.2.2).
        password_file: Where the station keeps its Basic-auth password durably (A01.FR.01,
            A01.FR.10: in clear text, so give the file restrictive permissions, which ocppgen
            sets to 0600). When the file exists its password wins over ``basic_auth``'s;
            ``StationClient.set_password`` writes it.
        security_events: Send SecurityEventNotification for what the client itself detects:
            FailedToAuthenticateAtCsms (HTTP 401), InvalidCsmsCertificate and InvalidTLSVersion
            (critical: kept in the durable queue until delivered, A04.FR.02),
            ReconfigurationOfSecurityParameters (a password change). Each is sent once per
            run of failures (A00.FR.419's note).
        ssl: The TLS context for ``wss://`` (profiles 2 and 3).
        extra_headers: More HTTP headers for the opening handshake.
        backoff: The reconnect back-off (Part 4).
        random: Random source of the back-off (injectable for tests).
        sleep: Sleep of the back-off and the queue's retry interval (injectable for tests).
        queue: The durable store of transaction-related messages (``SqliteStore(path)``);
            None: no queue (``submit`` is unavailable).
        queue_attempts: MessageAttemptsTransactionEvent / 1.6 TransactionMessageAttempts.
        queue_interval: MessageAttemptIntervalTransactionEvent / 1.6
            TransactionMessageRetryInterval, seconds (attempt n waits n times this).
        on_dead_letter: Called with each message the queue gives up on.
        on_delivered: Called with each queued message the CSMS acknowledged and its typed
            response (``Delivered``), also for messages queued before a restart.
        reconnect_on_timeout: Drop the connection and connect again when a CALL got no answer
            in time, as 2.x Part 2 section 3.2 advises (a fresh session, maybe to another CSMS
            node). None: on for 2.0.1 and 2.1, off for 1.6 (which gives no such advice).
    """

    basic_auth: tuple[str, str | bytes] | None = None
    password_file: str | None = None
    security_events: bool = True
    ssl: _ssl.SSLContext | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    backoff: BackOff = BackOff()
    random: Callable[[], float] = _random.random
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep
    queue: MessageStore | None = None
    queue_attempts: int = 3
    queue_interval: float = 60.0
    on_dead_letter: Callable[[DeadLetter], None] | None = None
    on_delivered: Callable[[Delivered], None] | None = None
    reconnect_on_timeout: bool | None = None
