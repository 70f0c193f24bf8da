"""The Redis bus: the doorbell, presence and revocations of rooms served by many processes.

Pub/sub is only a doorbell. This process holds one subscriber connection, owns its
reconnect loop (redis-py's PubSub neither reconnects nor resubscribes reliably on its
own, redis-py #2089 and #2417), and after every (re)subscription tells each room to
read the log for what it may have missed. Commits are published by the Redis store's
commit script, on the channel this bus listens to.
"""

import asyncio
import contextlib
import logging
import os
import time
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from .base import Committed, RoomListener
from .redis_keys import HELLO_CHANNEL, ops_channel, presence_channel

__all__ = ["RedisBus"]

log = logging.getLogger(__name__)

#: Seconds of silence on the subscriber connection before it is pinged, then presumed dead.
PING_EVERY = 5.0
DEAD_AFTER = 15.0


class RedisBus:
    """A :class:`~atelier.backends.base.Bus` shared by every process on one Redis."""

    def __init__(self, url: str) -> None:
        # The subscriber has a client of its own, without retries: on any error this
        # class drops the connection, reconnects, resubscribes and resyncs every room.
        self._sub_client = aioredis.Redis.from_url(
            url,
            client_name=f"atelier-sub-{os.getpid()}",
            socket_connect_timeout=2,
            socket_keepalive=True,
            retry=Retry(NoBackoff(), 0),
        )
        # Presence is published on a small client of its own, never behind a commit.
        self._publisher = aioredis.Redis.from_url(
            url,
            client_name=f"atelier-pub-{os.getpid()}",
            socket_timeout=5,
            socket_connect_timeout=2,
            socket_keepalive=True,
        )
        self._rooms: dict[str, list[RoomListener]] = {}
        self._pubsub: PubSub | None = None
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
        await self._sub_client.aclose()
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
        if self._pubsub is not None:
            try:
                await self._pubsub.subscribe(*channels)
            except (RedisError, OSError):
                # The subscriber loop sees the same failure, reconnects and subscribes
                # every room's channels, this one included.
                log.warning("subscribing to room %s failed; the subscriber reconnects", workshop_id)
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
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):  # a new connection forgets it anyway
                await self._pubsub.unsubscribe(*channels)

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
        while not self._closing:
            pubsub = self._sub_client.pubsub()
            try:
                for event in self._confirmed.values():
                    event.clear()
                channels = [HELLO_CHANNEL]
                for workshop_id in self._rooms:
                    channels += [ops_channel(workshop_id), presence_channel(workshop_id)]
                await pubsub.subscribe(*channels)
                self._pubsub = pubsub
                # Rooms opened while this connection was being made sent nothing on it.
                while missed := [
                    c
                    for w in self._rooms
                    for c in (ops_channel(w), presence_channel(w))
                    if c not in channels
                ]:
                    channels += missed
                    await pubsub.subscribe(*missed)
                self.subscriptions += 1
                delay = 0.05
                await self._read(pubsub)
            except (RedisError, OSError) as exc:
                if not self._closing:
                    log.warning("Redis subscriber lost (%s); reconnecting in %.2fs", exc, delay)
            finally:
                self._pubsub = None
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            if not self._closing:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _read(self, pubsub: PubSub) -> None:
        """Dispatch messages until the connection fails or goes silent."""
        last_heard = time.monotonic()
        pinged = False
        # Checked each second: redis-py's get_message can swallow a cancellation that lands
        # while its read timeout fires, so close() cannot rely on cancelling this task.
        while not self._closing:
            message = await pubsub.get_message(timeout=1.0)
            now = time.monotonic()
            if message is not None:
                last_heard, pinged = now, False
                self._deliver(self._dispatch, message)
            elif now - last_heard > DEAD_AFTER:
                raise ConnectionError(f"no answer from Redis for {DEAD_AFTER:.0f}s")
            elif now - last_heard > PING_EVERY and not pinged:
                pinged = True  # an idle but healthy connection answers with a pong message
                await pubsub.ping()

    def _dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind not in ("message", "subscribe"):
            return
        channel = message["channel"].decode()
        workshop_id, _, part = channel.removeprefix("atelier:{").rpartition("}:")
        listeners = list(self._rooms.get(workshop_id, ()))
        if kind == "subscribe":
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            if part == "ops":  # whatever was committed while we were not listening
                for listener in listeners:
                    self._deliver(listener.on_resync)
            return
        data: bytes = message["data"]
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
