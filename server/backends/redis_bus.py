"""The Redis bus: the doorbell, presence and revocations of rooms served by many processes.

Pub/sub is only a doorbell. This process holds one subscriber connection
(``redis_subscriber``: parsed by hiredis, each message handed over in the read callback),
owns its reconnect loop, and after every (re)subscription tells each room to read the log
for what it may have missed. Commits are published by the Redis store's commit script,
on the channel this bus listens to. Presence is published through redis-py.
"""

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .base import Committed, RoomListener
from .redis_keys import HELLO_CHANNEL, keepalive, ops_channel, presence_channel
from .redis_subscriber import Subscriber, connect

__all__ = ["RedisBus"]

log = logging.getLogger(__name__)

#: Seconds of silence on the subscriber connection before it is pinged, then presumed dead.
PING_EVERY = 5.0
DEAD_AFTER = 15.0
#: Seconds to connect, authenticate and name the subscriber connection.
CONNECT_TIMEOUT = 2.0
#: A connection that lasted this long was working: after it, reconnect without delay
#: (a Redis that drops every new connection at once is retried less and less often).
STABLE_AFTER = 5.0


class RedisBus:
    """A :class:`~atelier.backends.base.Bus` shared by every process on one Redis."""

    def __init__(self, url: str) -> None:
        # The subscriber connection is this class's own: on any error it is dropped, then
        # this class reconnects, resubscribes and resyncs every room.
        self._url = url
        # Presence is published on a small client of its own, never behind a commit.
        self._publisher = aioredis.Redis.from_url(
            url,
            client_name=f"atelier-pub-{os.getpid()}",
            socket_timeout=5,
            socket_connect_timeout=2,
            **keepalive(url),
        )
        self._rooms: dict[str, list[RoomListener]] = {}
        self._subscriber: Subscriber | None = None
        self._confirmed: dict[str, asyncio.Event] = {}
        self._listening: asyncio.Task[None] | None = None
        self._closing = False
        self._last_presence_warning = 0.0
        #: How many times the subscriber connected; tests and metrics read it.
        self.subscriptions = 0

    async def start(self) -> None:
        """Start the subscriber loop (it connects, and reconnects, on its own)."""
        self._closing = False
        self._confirmed[HELLO_CHANNEL] = asyncio.Event()
        self._listening = asyncio.create_task(self._listen_forever())

    async def close(self) -> None:
        """Stop the subscriber and close every connection."""
        self._closing = True
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening
            self._listening = None
        await self._publisher.aclose()

    async def subscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Feed ``listener`` the room's commits and presence, once Redis confirms it."""
        listeners = self._rooms.setdefault(workshop_id, [])
        listeners.append(listener)
        if len(listeners) > 1:
            return
        channels = [ops_channel(workshop_id), presence_channel(workshop_id)]
        for channel in channels:
            self._confirmed[channel] = asyncio.Event()
        confirmed = self._confirmed[channels[0]]
        if self._subscriber is not None:
            # If the connection is failing, the subscriber loop reconnects and subscribes
            # every room's channels, this one included.
            self._subscriber.send("SUBSCRIBE", *channels)
        # The hub reads the log right after this returns: the subscription must be live
        # by then, or an op committed in between would reach neither. If Redis does not
        # confirm in time, the confirmation still triggers a resync when it comes.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), 5)

    async def unsubscribe(self, workshop_id: str, listener: RoomListener) -> None:
        """Stop feeding ``listener``; drop the room's channels when it was the last."""
        listeners = self._rooms.get(workshop_id, [])
        if listener in listeners:
            listeners.remove(listener)
        if listeners:
            return
        self._rooms.pop(workshop_id, None)
        channels = [ops_channel(workshop_id), presence_channel(workshop_id)]
        for channel in channels:
            self._confirmed.pop(channel, None)
        if self._subscriber is not None:  # (a new connection forgets it anyway)
            self._subscriber.send("UNSUBSCRIBE", *channels)

    async def publish_presence(self, workshop_id: str, payload: bytes) -> None:
        """Publish presence, best effort: it is ephemeral, and the next heartbeat repeats it."""
        try:
            await self._publisher.publish(presence_channel(workshop_id), payload)
        except (RedisError, OSError) as exc:
            now = time.monotonic()
            if now - self._last_presence_warning > 10:
                self._last_presence_warning = now
                log.warning("presence not published in room %s: %s", workshop_id, exc)

    async def _listen_forever(self) -> None:
        """Hold one subscriber connection for the whole process, reconnecting as needed."""
        delay = 0.05
        name = f"atelier-sub-{os.getpid()}"
        while not self._closing:
            subscriber: Subscriber | None = None
            since = time.monotonic()
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    subscriber = await connect(self._url, name, self._dispatch)
                for event in self._confirmed.values():
                    event.clear()
                # No await between listing the rooms and sending: a room opened from now
                # on sends its own SUBSCRIBE on this connection.
                channels = [HELLO_CHANNEL]
                for workshop_id in self._rooms:
                    channels += [ops_channel(workshop_id), presence_channel(workshop_id)]
                subscriber.send("SUBSCRIBE", *channels)
                self._subscriber = subscriber
                self.subscriptions += 1
                await self._watch(subscriber)
            except (OSError, TimeoutError) as exc:  # SubscriberError is a ConnectionError
                if not self._closing:
                    log.warning("Redis subscriber lost (%r); reconnecting in %.2fs", exc, delay)
            except Exception:  # a bug, or a URL redis-py refuses: say so, and keep trying
                log.exception("the Redis subscriber failed; reconnecting in %.2fs", delay)
            finally:
                self._subscriber = None
                if subscriber is not None:
                    subscriber.abort()  # a dead peer would hold a TLS close for long
            if not self._closing:
                if time.monotonic() - since >= STABLE_AFTER:
                    delay = 0.05  # it was working: try again at once, then back off
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _watch(self, subscriber: Subscriber) -> None:
        """Return, or raise, once the connection fails or goes silent (the pushes
        themselves are dispatched by the connection as they arrive)."""
        pinged = False
        while not self._closing:
            silent = time.monotonic() - subscriber.heard
            if silent > DEAD_AFTER:
                raise ConnectionError(f"no answer from Redis for {DEAD_AFTER:.0f}s")
            if silent > PING_EVERY and not pinged:
                pinged = True  # an idle but healthy connection answers with a pong
                subscriber.send("PING")
            elif silent <= PING_EVERY:
                pinged = False
            # look again when a ping or the verdict would be due, or within a second
            due = (DEAD_AFTER if pinged else PING_EVERY) - silent
            done, _ = await asyncio.wait([subscriber.lost], timeout=min(1.0, max(0.01, due)))
            if done:
                reason = subscriber.lost.result()
                if isinstance(reason, OSError):
                    raise reason
                if reason is None:
                    raise ConnectionError("Redis closed the subscriber connection")
                raise ConnectionError(f"the subscriber connection ended ({reason!r})")

    def _dispatch(self, kind: bytes, channel_name: bytes, data: Any) -> None:
        try:
            self._route(kind, channel_name, data)
        except Exception:  # a failing room must not break the connection's reading
            log.exception("a message from Redis could not be handled")

    def _route(self, kind: bytes, channel_name: bytes, data: Any) -> None:
        if kind not in (b"message", b"subscribe"):
            return
        channel = channel_name.decode()
        workshop_id, _, part = channel.removeprefix("atelier:{").rpartition("}:")
        listeners = list(self._rooms.get(workshop_id, ()))
        if kind == b"subscribe":
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            if part == "ops":  # whatever was committed while we were not listening
                for listener in listeners:
                    self._deliver(listener.on_resync)
            return
        if part == "ops":
            committed = Committed.from_bytes(data)
            for listener in listeners:
                self._deliver(listener.on_commit, committed)
        elif part == "presence":
            for listener in listeners:
                self._deliver(listener.on_presence, data)

    @staticmethod
    def _deliver(call: Any, *args: Any) -> None:
        # A failing room must neither stop the subscriber nor starve the other rooms.
        try:
            call(*args)
        except Exception:
            log.exception("a room failed to take a message from Redis")
