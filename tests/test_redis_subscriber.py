"""The Redis bus's own subscriber connection (backends/redis_subscriber.py), against real
redis-servers (a password, a unix socket, TLS) and against real sockets that misbehave."""

import asyncio
import itertools
import logging
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import uvloop
from atelier.backends import redis_bus
from atelier.backends.base import OpRecord, WorkshopMeta
from atelier.backends.redis_bus import RedisBus
from atelier.backends.redis_store import RedisStore
from atelier.backends.redis_subscriber import Subscriber, SubscriberError, connect

from tests.support import RedisProcess, free_port

pytestmark = pytest.mark.redis


class Heard:
    """A room listener keeping the seqs it is rung for, and its resyncs."""

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.resyncs = 0

    def on_commit(self, committed: Any) -> None:
        self.seqs.append(committed.seq)

    def on_presence(self, payload: bytes) -> None:
        pass

    def on_resync(self) -> None:
        self.resyncs += 1


async def dial(url: str, on_push: Any = lambda *_: None) -> Subscriber:
    """``connect``, bounded in time as the bus bounds it (a test must never hang)."""
    async with asyncio.timeout(10):
        return await connect(url, "atelier-test", on_push)


def op(cop: int) -> OpRecord:
    return OpRecord("tab-1", cop, {"kind": "note.add", "id": f"n{cop}", "text": "constat"},
                    "Ana", "participant", 1)  # fmt: skip


async def until(check: Callable[[], bool], timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def ring(url: str, commits: int, *, room: str = "w", bursts: int = 50) -> Heard:
    """Commit ``commits`` ops to ``room`` through a store at ``url``, in bursts, and
    return what a bus at ``url`` rang its listener for."""
    bus, store = RedisBus(url), RedisStore(url)
    await bus.start()
    await store.start()
    try:
        await store.create_workshop(WorkshopMeta(room, "Atelier", "Drôme", 1, {}))
        heard = Heard()
        await bus.subscribe(room, heard)
        for cop in range(1, commits + 1):
            await store.commit(room, op(cop))
            if cop % bursts == 0:
                await asyncio.sleep(0.005)  # let the pushes pile up between reads
        await until(lambda: len(heard.seqs) >= commits)
        return heard
    finally:
        await bus.close()
        await store.close()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_every_doorbell_arrives_once_in_order_on_either_event_loop(
    loop: str, redis_server: RedisProcess
) -> None:
    """uvicorn runs the server on uvloop, whose transports are not asyncio's classes:
    the connection works on both, and loses, doubles or reorders nothing."""
    run: Callable[[Awaitable[Heard]], Heard] = asyncio.run if loop == "asyncio" else uvloop.run  # type: ignore[assignment]
    heard = run(ring(redis_server.url, 300))
    assert heard.seqs == list(range(1, 301))
    assert heard.resyncs == 1  # on subscribing, never since


async def test_a_password_is_sent_and_a_wrong_one_is_a_clear_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = RedisProcess(tmp_path / "redis", extra=("--requirepass", "s3cret")).start()
    try:
        good = f"redis://:s3cret@127.0.0.1:{server.port}/0"
        assert (await ring(good, 5)).seqs == [1, 2, 3, 4, 5]
        with_user = f"redis://default:s3cret@127.0.0.1:{server.port}/0"  # an ACL user
        assert (await ring(with_user, 1, room="w2")).seqs == [1]

        bad = f"redis://:wrong@127.0.0.1:{server.port}/0"
        with pytest.raises(SubscriberError, match="AUTH"):
            await dial(bad)
        bus = RedisBus(bad)  # keeps trying, says why, never counts a subscription
        with caplog.at_level(logging.WARNING, logger="atelier.backends.redis_bus"):
            await bus.start()
            await until(lambda: "refused" in caplog.text)
            await bus.close()
        assert bus.subscriptions == 0
        assert "s3cret" not in caplog.text and "wrong" not in caplog.text  # no password logged
    finally:
        server.stop()


async def test_a_unix_socket_url(tmp_path: Path) -> None:
    path = tmp_path / "redis.sock"
    server = RedisProcess(tmp_path / "redis", extra=("--unixsocket", str(path))).start()
    try:
        assert (await ring(f"unix://{path}?db=0", 3)).seqs == [1, 2, 3]
    finally:
        server.stop()


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate it signed for 127.0.0.1: (ca, certificate, key)."""
    directory.mkdir()
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    cert, key, csr = directory / "redis.pem", directory / "redis.key", directory / "redis.csr"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for cmd in (
        ["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1",
         "-subj", "/CN=Atelier test CA"],
        ["openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"],
        ["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
         "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", ext],
    ):  # fmt: skip
        subprocess.run([str(part) for part in cmd], check=True, capture_output=True, timeout=30)
    return ca, cert, key


async def test_tls_with_the_url_s_certificate_authority_and_client_certificate(
    tmp_path: Path,
) -> None:
    """``rediss://`` checks the server's certificate, as redis-py does for the store: with
    the URL's ``ssl_ca_certs`` it connects; against the system's CAs alone it refuses.
    A Redis that asks for a client certificate gets the URL's ``ssl_certfile``."""
    ca, cert, key = _certificates(tmp_path / "tls")
    tls_port = free_port()
    server = RedisProcess(tmp_path / "redis", extra=(
        "--tls-port", str(tls_port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
        "--tls-ca-cert-file", str(ca), "--tls-auth-clients", "yes")).start()  # fmt: skip
    try:
        url = f"rediss://127.0.0.1:{tls_port}/0"
        client = f"ssl_certfile={cert}&ssl_keyfile={key}"  # any certificate the CA signed
        assert (await ring(f"{url}?ssl_ca_certs={ca}&{client}", 3)).seqs == [1, 2, 3]
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):  # not our CA
            await dial(f"{url}?{client}")
        with pytest.raises(OSError):  # Redis wants a client certificate
            await dial(f"{url}?ssl_ca_certs={ca}")
        # the certificate names 127.0.0.1, not localhost: the name is checked too...
        by_name = f"rediss://localhost:{tls_port}/0?ssl_ca_certs={ca}&{client}"
        with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
            await dial(by_name)
        (await dial(f"{by_name}&ssl_check_hostname=false")).abort()  # ...unless told not to
        (await dial(f"{url}?ssl_cert_reqs=none&{client}")).abort()  # no check at all
    finally:
        server.stop()


class FakeRedis:
    """A TCP server that answers the handshake like Redis, then does ``then``."""

    def __init__(self, then: bytes | None, *, bytewise: bool = False) -> None:
        self.then = then  # sent once the name is set; None: silence from then on
        self.bytewise = bytewise  # send ``then`` one byte per write
        self.connections = 0
        self.connected_at: list[float] = []
        self.received = b""
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.connected_at.append(asyncio.get_running_loop().time())
        self.writers.append(writer)
        try:
            while data := await reader.read(4096):
                self.received += data
                if b"SETNAME" in data:
                    writer.write(b"+OK\r\n")
                    for piece in [self.then[i : i + 1] for i in range(len(self.then or b""))]:
                        if self.bytewise:
                            await writer.drain()
                            await asyncio.sleep(0.001)
                        writer.write(piece)
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.sleep(0.05)  # let each connection's reader see its end


async def test_pushes_split_into_single_bytes_arrive_whole_and_in_order() -> None:
    pushes = (b"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n"
              b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\nhello\r\n"
              b"*2\r\n$4\r\npong\r\n$0\r\n\r\n")  # fmt: skip
    fake = FakeRedis(then=pushes, bytewise=True)
    port = await fake.start()
    got: list[tuple[bytes, bytes, Any]] = []
    try:
        subscriber = await dial(f"redis://127.0.0.1:{port}/0", lambda *push: got.append(push))
        await until(lambda: len(got) == 3)
        assert got == [(b"subscribe", b"ch", 1), (b"message", b"ch", b"hello"), (b"pong", b"", b"")]
        subscriber.abort()
    finally:
        await fake.close()


@pytest.mark.parametrize(
    ("then", "why"),
    [
        (b"?this is not redis\r\n", "unreadable reply"),  # not RESP
        (b"*3\r\n*0\r\n$1\r\na\r\n$1\r\nb\r\n", "unexpected reply"),  # a list as a kind
        (b"+OK\r\n", "unexpected reply"),  # an answer to nothing asked
    ],
)
async def test_a_reply_that_is_not_a_push_drops_the_connection(then: bytes, why: str) -> None:
    fake = FakeRedis(then=then)
    port = await fake.start()
    try:
        subscriber = await dial(f"redis://127.0.0.1:{port}/0")
        async with asyncio.timeout(5):
            reason = await subscriber.lost
        assert isinstance(reason, SubscriberError) and why in str(reason)
    finally:
        await fake.close()


async def test_the_bus_survives_a_redis_that_sends_nonsense(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Whatever a (broken, or not really) Redis sends, the bus drops the connection, says
    why, and tries again, each time a little later; it still closes cleanly."""
    fake = FakeRedis(then=b"*3\r\n*0\r\n$1\r\na\r\n$1\r\nb\r\n")
    port = await fake.start()
    bus = RedisBus(f"redis://127.0.0.1:{port}/0")
    try:
        with caplog.at_level(logging.WARNING, logger="atelier.backends.redis_bus"):
            await bus.start()
            await until(lambda: fake.connections >= 4)
        gaps = [b - a for a, b in itertools.pairwise(fake.connected_at)]
        assert gaps[-1] > gaps[0]  # backing off, not hammering
        assert "unexpected reply" in caplog.text
    finally:
        await bus.close()  # raises nothing
        await fake.close()


async def test_a_silent_redis_is_pinged_then_given_up_and_reconnected(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Redis that stops answering (a hung process, a cut link that sends no reset) is
    pinged after PING_EVERY of silence and left after DEAD_AFTER for a new connection."""
    monkeypatch.setattr(redis_bus, "PING_EVERY", 0.3)
    monkeypatch.setattr(redis_bus, "DEAD_AFTER", 1.0)
    fake = FakeRedis(then=None)
    port = await fake.start()
    bus = RedisBus(f"redis://127.0.0.1:{port}/0")
    try:
        await bus.start()
        await until(lambda: fake.connections >= 2, timeout=15)
        assert b"PING" in fake.received
        first, second = fake.connected_at[:2]
        assert second - first >= 1.0  # not at the ping: after DEAD_AFTER of silence
    finally:
        await bus.close()
        await fake.close()
