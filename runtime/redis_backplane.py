"""The Redis backplane (decision 0013): redis-py's asyncio client, imported when first used
(``pip install 'ocppgen[redis]'``).

Keys (``prefix`` first, so several clusters or tests share one Redis):

    {prefix}presence:{identity}  msgpack Presence [node, version, since]   PX ttl, renewed by its node
    {prefix}node:{node}          "1": the node is alive                     PX ttl, renewed by the node
    {prefix}inbox:{node}         list of msgpack CallRequest / Replace      RPUSH by callers, popped by the node
    {prefix}reply:{process}      pub/sub channel of msgpack CallReply
    {prefix}events               pub/sub channel of msgpack ClusterEvent
    {prefix}state:{name}         shared session state (msgpack)             PX session TTL

Presence changes are Lua scripts (one atomic step each): claim (newest connection wins),
release (compare and delete), refresh (renew what is still ours, restore what Redis forgot),
route (push a CALL into the inbox of the live node holding the station). The scripts read
keys they compute (inbox and node keys), which a single Redis allows; Redis Cluster would need
hash tags (``prefix`` like ``{ocpp}:``) for all of them to live in one slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .backplane import BackplaneDown, Presence, decode_presence, encode
from .loop import end_tasks

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RedisBackplane"]

log = logging.getLogger("ocppgen.cluster")
T = TypeVar("T")

_CLAIM = """
local old = redis.call('GET', KEYS[1])
if old and ARGV[3] == '1' then
  local o = cmsgpack.unpack(old)
  if tonumber(o[3]) > tonumber(ARGV[4]) then return {0, old} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if old then return {1, old} end
return {1}
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_REFRESH = """
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
local lost, restored = {}, {}
for i = 2, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v == ARGV[i] then
    redis.call('PEXPIRE', KEYS[i], ARGV[1])
  elseif not v then
    redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[1])
    table.insert(restored, i - 1)
  else
    local o = cmsgpack.unpack(v)
    local m = cmsgpack.unpack(ARGV[i])
    if tonumber(o[3]) >= tonumber(m[3]) then
      table.insert(lost, i - 1)
    else
      redis.call('SET', KEYS[i], ARGV[i], 'PX', ARGV[1])
      table.insert(restored, i - 1)
    end
  end
end
return {lost, restored}
"""
_ROUTE = """
local v = redis.call('GET', KEYS[1])
if not v then return nil end
local p = cmsgpack.unpack(v)
if redis.call('EXISTS', ARGV[1] .. 'node:' .. p[1]) == 0 then return {0, v} end
redis.call('RPUSH', ARGV[1] .. 'inbox:' .. p[1], ARGV[2])
return {1, v}
"""


def _b(value: object) -> bytes:
    """A reply redis-py types loosely (it returns bytes: decode_responses is off)."""
    assert isinstance(value, bytes), type(value)
    return value


def new_node_id() -> str:
    """A process id unique in the cluster: host, pid and a random part."""
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


class RedisBackplane:
    """``Backplane`` on one Redis server (``redis://host:port/db``)."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "ocpp:",
        ttl: float = 15.0,
        node: str | None = None,
        timeout: float = 2.0,
    ) -> None:
        """``ttl``: presence TTL in seconds (a dead node's stations vanish within it);
        ``timeout``: seconds one Redis command may take before the backplane counts as down.

        Args:
            url: the Redis server, ``redis://host:port/db``.
            prefix: prepended to every key and channel; one cluster per prefix.
            ttl: presence TTL in seconds.
            node: this process's id, unique in the cluster (default ``new_node_id()``).
            timeout: seconds per command.
        """
        self.url = url
        self.prefix = prefix
        self.ttl = ttl
        self.node = node or new_node_id()
        self.timeout = timeout
        self._redis: Redis | None = None
        self._blocking: Redis | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._scripts: dict[str, Any] = {}
        self._closing = False

    def _client(self, *, blocking: bool = False) -> Redis:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        return Redis.from_url(
            self.url,
            socket_connect_timeout=self.timeout,
            socket_timeout=None if blocking else self.timeout,
            retry=Retry(NoBackoff(), 0),  # fail promptly: the caller decides what a failure means
            health_check_interval=0,
        )

    @property
    def redis(self) -> Redis:
        if self._redis is None:
            self._redis = self._client()
        return self._redis

    async def _do(self, call: Callable[[], Awaitable[T]]) -> T:
        from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

        try:
            return await call()
        except (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError) as exc:
            text = str(exc)
            raise BackplaneDown(f"Redis at {self.url} unavailable: {text}", maybe_applied="connecting" not in text) from exc

    def _script(self, name: str, source: str) -> Any:
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self.redis.register_script(source)
        return script

    # -- lifecycle --------------------------------------------------------------------------

    async def start(
        self,
        on_inbound: Callable[[bytes], None],
        on_reply: Callable[[bytes], None],
        on_event: Callable[[bytes], None],
        on_up: Callable[[], Awaitable[None]],
    ) -> None:
        """``Backplane.start``.

        Args:
            on_inbound: called with each message of this node's inbox.
            on_reply: called with each reply for this process.
            on_event: called with each event of the cluster.
            on_up: awaited after every (re)connection to Redis.
        """
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        self._tasks.append(loop.create_task(self._listen(on_reply, on_event, on_up, ready)))
        self._tasks.append(loop.create_task(self._consume(on_inbound)))
        await ready

    async def close(self) -> None:
        self._closing = True
        await end_tasks(self._tasks)
        self._tasks.clear()
        for client in (self._redis, self._blocking):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.aclose()
        self._redis = self._blocking = None

    async def _listen(
        self, on_reply: Callable[[bytes], None], on_event: Callable[[bytes], None],
        on_up: Callable[[], Awaitable[None]], ready: asyncio.Future[None],
    ) -> None:
        """Replies and events (pub/sub); after a lost connection, subscribe again and tell
        the registry (``on_up``), which re-establishes what Redis may have lost."""
        reply_channel = f"{self.prefix}reply:{self.node}".encode()
        events_channel = f"{self.prefix}events".encode()
        down = False
        while not self._closing:
            client = self._client(blocking=True)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(reply_channel, events_channel)
                confirmed = 0
                while confirmed < 2:  # active only once Redis confirmed: then no event is missed
                    message = await asyncio.wait_for(pubsub.get_message(timeout=self.timeout), self.timeout * 2)
                    if message is None:
                        raise BackplaneDown(f"Redis at {self.url} did not confirm the subscription")
                    confirmed += message.get("type") == "subscribe"
                if not ready.done():
                    ready.set_result(None)
                if down:
                    log.warning("%s: Redis is back: re-establishing presence and session state", self.node)
                    down = False
                    await on_up()
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message.get("type") != "message":
                        continue
                    data = message["data"]
                    if message["channel"] == reply_channel:
                        on_reply(data)
                    else:
                        on_event(data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not ready.done():
                    ready.set_exception(BackplaneDown(f"Redis at {self.url} unavailable: {exc}"))
                    return
                if not down:
                    log.warning("%s: lost Redis (%s); station connections stay, retrying", self.node, exc)
                down = True
                await asyncio.sleep(0.2)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _consume(self, on_inbound: Callable[[bytes], None]) -> None:
        """This node's inbox: blocking pops, then what else is waiting, in order."""
        inbox = f"{self.prefix}inbox:{self.node}"
        while not self._closing:
            if self._blocking is None:
                self._blocking = self._client(blocking=True)
            try:
                popped = await self._blocking.blpop([inbox], timeout=1)
                if popped is None:
                    continue
                on_inbound(_b(popped[1]))
                more = await self._blocking.lpop(inbox, 100)
                for data in more or []:
                    on_inbound(_b(data))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("%s: inbox: %s", self.node, exc)
                with contextlib.suppress(Exception):
                    await self._blocking.aclose()
                self._blocking = None
                await asyncio.sleep(0.2)

    # -- presence ---------------------------------------------------------------------------

    def _key(self, identity: str) -> str:
        return f"{self.prefix}presence:{identity}"

    async def claim(self, identity: str, presence: Presence, *, newest_wins: bool) -> Presence | None:
        """``Backplane.claim``, one Lua script.

        Args:
            identity: the station.
            presence: this node's presence for it.
            newest_wins: keep a holder whose ``since`` is newer.
        """
        script = self._script("claim", _CLAIM)
        args = [encode(presence), int(self.ttl * 1000), "1" if newest_wins else "0", repr(presence.since)]
        result = await self._do(lambda: script(keys=[self._key(identity)], args=args))
        return decode_presence(result[1]) if len(result) > 1 else None

    async def release(self, identity: str, presence: Presence) -> None:
        """``Backplane.release``, one Lua script.

        Args:
            identity: the station.
            presence: the presence this node recorded.
        """
        script = self._script("release", _RELEASE)
        await self._do(lambda: script(keys=[self._key(identity)], args=[encode(presence)]))

    async def refresh(self, held: Mapping[str, Presence]) -> tuple[list[str], list[str]]:
        """``Backplane.refresh``.

        Args:
            held: the stations this node holds, with their presence.
        """
        script = self._script("refresh", _REFRESH)
        identities = list(held)
        lost: list[str] = []
        restored: list[str] = []
        node_key = f"{self.prefix}node:{self.node}"
        ttl = int(self.ttl * 1000)
        for start in range(0, max(len(identities), 1), 500):
            chunk = identities[start:start + 500]
            keys = [node_key, *(self._key(i) for i in chunk)]
            args = [ttl, *(encode(held[i]) for i in chunk)]
            result = await self._do(lambda: script(keys=keys, args=args))
            lost += [chunk[int(i) - 1] for i in result[0]]
            restored += [chunk[int(i) - 1] for i in result[1]]
        return lost, restored

    async def locate(self, identity: str) -> Presence | None:
        """``Backplane.locate``.

        Args:
            identity: the station.
        """
        data = await self._do(lambda: self.redis.get(self._key(identity)))
        return None if data is None else decode_presence(_b(data))

    async def present(self) -> dict[str, Presence]:
        pattern = f"{self.prefix}presence:*"
        skip = len(self.prefix) + len("presence:")

        async def scan() -> dict[str, Presence]:
            keys = [k async for k in self.redis.scan_iter(match=pattern, count=1000)]
            found: dict[str, Presence] = {}
            for start in range(0, len(keys), 1000):
                chunk = keys[start:start + 1000]
                for key, value in zip(chunk, await self.redis.mget(chunk)):
                    if value is not None:
                        found[key.decode()[skip:]] = decode_presence(_b(value))
            return found

        return await self._do(scan)

    async def node_alive(self, node: str) -> bool:
        """``Backplane.node_alive``.

        Args:
            node: a process id.
        """
        return bool(await self._do(lambda: self.redis.exists(f"{self.prefix}node:{node}")))

    # -- messages ---------------------------------------------------------------------------

    async def route(self, identity: str, message: bytes) -> Presence | None:
        """``Backplane.route``, one Lua script (locate, check the node is alive, enqueue).

        Args:
            identity: the station.
            message: an encoded ``CallRequest``.
        """
        script = self._script("route", _ROUTE)
        result = await self._do(lambda: script(keys=[self._key(identity)], args=[self.prefix, message]))
        if result is None or int(result[0]) == 0:
            return None
        return decode_presence(result[1])

    async def push(self, node: str, message: bytes) -> None:
        """``Backplane.push``.

        Args:
            node: the process id.
            message: an encoded inbound message.
        """
        await self._do(lambda: self.redis.rpush(f"{self.prefix}inbox:{node}", message))

    async def retract(self, node: str, message: bytes) -> bool:
        """``Backplane.retract``.

        Args:
            node: the process id.
            message: the bytes queued.
        """
        inbox = f"{self.prefix}inbox:{node}"
        return bool(await self._do(lambda: self.redis.lrem(inbox, 1, message)))  # type: ignore[arg-type]

    async def reply(self, process: str, message: bytes) -> None:
        """``Backplane.reply``.

        Args:
            process: the process to answer.
            message: an encoded ``CallReply``.
        """
        await self._do(lambda: self.redis.publish(f"{self.prefix}reply:{process}", message))

    async def publish(self, message: bytes) -> None:
        """``Backplane.publish``.

        Args:
            message: an encoded ``ClusterEvent``.
        """
        await self._do(lambda: self.redis.publish(f"{self.prefix}events", message))

    # -- shared state -----------------------------------------------------------------------

    async def load(self, names: Sequence[str]) -> list[bytes | None]:
        """``Backplane.load``.

        Args:
            names: the keys, without the prefix.
        """
        keys = [f"{self.prefix}state:{n}" for n in names]
        values = await self._do(lambda: self.redis.mget(keys))
        return [None if v is None else _b(v) for v in values]

    async def save(self, items: Mapping[str, bytes], ttl: float | None) -> None:
        """``Backplane.save``, in one pipeline (not a transaction).

        Args:
            items: key to value.
            ttl: seconds before they expire, None to keep them.
        """
        async def write() -> None:
            async with self.redis.pipeline(transaction=False) as pipe:
                for name, data in items.items():
                    pipe.set(f"{self.prefix}state:{name}", data, px=None if ttl is None else int(ttl * 1000))
                await pipe.execute()

        await self._do(write)

    async def delete(self, names: Sequence[str]) -> None:
        """``Backplane.delete``.

        Args:
            names: the keys, without the prefix.
        """
        keys = [f"{self.prefix}state:{n}" for n in names]
        if keys:
            await self._do(lambda: self.redis.delete(*keys))

    async def add(self, name: str, ttl: float) -> int:
        """``Backplane.add``.

        Args:
            name: the counter's key.
            ttl: its lifetime in seconds.
        """
        key = f"{self.prefix}state:{name}"

        async def add() -> int:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.pexpire(key, int(ttl * 1000), nx=True)
                count, _ = await pipe.execute()
            return int(count)

        return await self._do(add)

    async def delete_prefix(self) -> int:
        """Delete every key under this backplane's prefix (tests, tear-down of a cluster)."""

        async def delete() -> int:
            keys = [k async for k in self.redis.scan_iter(match=f"{self.prefix}*", count=1000)]
            return int(await self.redis.delete(*keys)) if keys else 0

        return await self._do(delete)
