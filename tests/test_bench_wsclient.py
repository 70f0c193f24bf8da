"""The load generator's own frame reader: every message whole and in order, however the
reads cut the stream, and pings and closes still answered.

The reader splits the server's frames by hand (bench/wsclient.py), so it is checked here
against frames serialized by the websockets library itself, fed in every possible cut.
"""

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader

from bench.wsclient import WsClient

pytestmark = pytest.mark.pure

MESSAGES = [
    b'{"type":"event","seq":1}',
    b"x" * 126,  # the first size that takes a 2-byte length
    b"y" * 70_000,  # a size that takes an 8-byte length
    b"",
    b'{"type":"event","seq":2}',
]


class _Wire:
    """Where the client's writes go: what it answers, as bytes."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def _stream() -> tuple[bytes, list[bytes]]:
    """Server frames: whole messages, a ping in the middle, a message in three fragments."""
    frames = [Frame(Opcode.TEXT, m) for m in MESSAGES[:2]]
    frames.append(Frame(Opcode.PING, b"ping"))
    frames += [Frame(Opcode.TEXT, m) for m in MESSAGES[2:]]
    frames += [
        Frame(Opcode.TEXT, b"frag", fin=False),
        Frame(Opcode.CONT, b"ment", fin=False),
        Frame(Opcode.CONT, b"ed"),
    ]
    data = b"".join(f.serialize(mask=False) for f in frames)
    return data, [*MESSAGES, b"fragmented"]


async def _read(chunks: list[bytes]) -> tuple[list[bytes], bytes]:
    received: list[bytes] = []
    client = WsClient("ws://127.0.0.1:1/x", lambda data, _at: received.append(data))
    wire = _Wire()
    client.transport = wire  # type: ignore[assignment]
    client._framing = True  # as after the handshake: frames from here on
    client.protocol.state = client.protocol.state.OPEN
    for chunk in chunks:
        client.data_received(chunk)
    return received, bytes(wire.written)


def _frames_from(written: bytes) -> list[Frame]:
    """The frames the client wrote (masked, as a client's are), parsed by the library."""
    reader = StreamReader()
    reader.feed_data(written)
    reader.feed_eof()
    frames = []
    while reader.buffer:
        parser = Frame.parse(reader.read_exact, mask=True)
        try:
            next(parser)
        except StopIteration as done:
            frames.append(done.value)
    return frames


def _pong_in(written: bytes) -> bool:
    """Whether the client answered b"ping" with its pong."""
    return any(f.opcode is Opcode.PONG and f.data == b"ping" for f in _frames_from(written))


async def test_every_message_arrives_whole_and_in_order_wherever_the_reads_cut() -> None:
    data, expected = _stream()
    cuts = sorted({*range(0, 300), *range(len(data) - 300, len(data)), 70_000, 70_010})
    for cut in cuts:
        received, written = await _read([data[:cut], data[cut:]])
        assert received == expected, f"cut at {cut}"
        assert _pong_in(written)


async def test_a_stream_fed_a_few_bytes_at_a_time_reads_the_same() -> None:
    data, expected = _stream()
    for size in (1, 3, 1000, 65_536):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        received, _ = await _read(chunks)
        assert received == expected, f"reads of {size} bytes"


async def test_a_close_from_the_server_is_answered() -> None:
    close = Frame(Opcode.CLOSE, Close(1001, "bye").serialize()).serialize(mask=False)
    received, written = await _read([close])
    assert received == []
    [answer] = _frames_from(written)
    assert answer.opcode is Opcode.CLOSE
    assert Close.parse(answer.data).code == 1001
