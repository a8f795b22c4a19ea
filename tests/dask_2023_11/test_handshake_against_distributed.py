"""The comm handshake of dask-2023.11 (DK-1 .. DK-7) against distributed 2026.8.0 itself.

1. `write_handshake` writes the frame `dumps` writes for the dict `Comm.handshake_info`
   builds, for compression nil, lz4 and zlib;
2. `read_handshake` + `agree` against `Comm.handshake_configuration` on a table of remote
   handshakes: the same options where both accept, an `InvalidHandshake` where distributed
   raises, and each deliberate difference asserted as such;
3. real TCP on loopback, both ways: a distributed listener and a raw asyncio client that
   speaks daskwire (pack, FrameReader), then a raw asyncio server that speaks daskwire and a
   distributed `connect`. Both sides must compute the same options from the socket bytes.

Like test_against_distributed.py, this module imports distributed unguarded: the kit's CI
installs it (scripts/setup.sh --all), and a missing distributed must fail, not skip.
Nothing here unpickles anything: handshakes hold no `__Pickled__` value.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import dask
import distributed
import pytest
from daskwire import ConnectionOptions, DaskwireError, InvalidHandshake
from daskwire import dask_2023_11 as dw
from daskwire.dask_2023_11 import agree, read_handshake, write_handshake
from distributed.comm import connect, listen
from distributed.comm.core import Comm
from distributed.protocol import dumps, loads

pytestmark = pytest.mark.timeout(60)

#: The Python version both sides write as "python" in table 1 (DK-4's suggested value).
PY = (3, 11, 7)
#: This interpreter's version: what a real distributed comm writes as "python".
HERE = (sys.version_info[0], sys.version_info[1], sys.version_info[2])
#: Bounds every TCP session; pytest-timeout bounds the whole test.
SESSION_SECONDS = 20.0
#: distributed's listener; the raw client binds CLIENT_HOST, a different host to distributed
#: (Comm.same_host compares IP addresses), so the listener proposes its configured codec.
LISTENER_HOST = "127.0.0.3"
CLIENT_HOST = "127.0.0.2"
#: dumps with no compression context (frame 0 is never compressed anyway).
PLAIN: Mapping[str, Any] = {"context": {"compression": None}}


def test_distributed_is_the_pinned_release() -> None:
    assert distributed.__version__ == "2026.8.0"


def opts(compression: str | None, pickle_protocol: int) -> ConnectionOptions:
    return ConnectionOptions(compression=compression, pickle_protocol=pickle_protocol)


def blobs(frames: Any) -> list[bytes]:
    return [bytes(f) for f in frames]


def as_options(configuration: Mapping[str, Any]) -> ConnectionOptions:
    """distributed's `handshake_options` dict as daskwire's ConnectionOptions."""
    assert set(configuration) == {"compression", "pickle-protocol"}
    return ConnectionOptions(
        compression=configuration["compression"],
        pickle_protocol=configuration["pickle-protocol"],
    )


@contextlib.contextmanager
def codec_config(codec: str | None) -> Iterator[None]:
    """distributed.comm.compression set to `codec` (False for none, as distributed's default)."""
    with dask.config.set({"distributed.comm.compression": codec or False}):
        yield


def handshake_info(codec: str | None, *, same_host: bool = False) -> dict[str, Any]:
    """What distributed's own `Comm.handshake_info` builds, "python" set to `PY`."""
    with codec_config(codec):
        info: dict[str, Any] = Comm.handshake_info(SimpleNamespace(same_host=same_host))  # type: ignore[arg-type]
    assert list(info) == ["compression", "python", "pickle-protocol"]
    assert info["python"] == HERE
    return {**info, "python": PY}


# --- 1. write_handshake against dumps(handshake_info) ---


@pytest.mark.parametrize("codec", [None, "lz4", "zlib"])
def test_write_handshake_is_what_distributed_writes(codec: str | None) -> None:
    info = handshake_info(codec)
    assert info["compression"] == codec
    theirs = dumps(info, **PLAIN)
    ours = write_handshake(opts(codec, 5), PY)
    assert blobs(ours) == blobs(theirs)
    # and each reads the other's
    assert read_handshake(theirs) == opts(codec, 5)
    read_back = loads(ours, deserialize=False)
    assert read_back == {"compression": codec, "python": PY, "pickle-protocol": 5}


def test_same_host_proposes_nil() -> None:
    """Informative (handshake.md, "Who proposes what"): on one host, nil whatever the config."""
    assert handshake_info("lz4", same_host=True)["compression"] is None


# --- 2. read_handshake + agree against Comm.handshake_configuration ---

LOCALS = [
    pytest.param({"compression": "lz4", "python": PY, "pickle-protocol": 5}, id="local-lz4-5"),
    pytest.param({"compression": None, "python": PY, "pickle-protocol": 5}, id="local-nil-5"),
    pytest.param({"compression": "zlib", "python": PY, "pickle-protocol": 4}, id="local-zlib-4"),
]


def remote(**overrides: Any) -> dict[str, Any]:
    """A remote handshake: distributed's three keys, `overrides` applied; a value of
    `MISSING` drops its key."""
    out: dict[str, Any] = {"compression": "lz4", "python": PY, "pickle-protocol": 5}
    for name, value in overrides.items():
        key = name.replace("_", "-")
        if value is MISSING:
            del out[key]
        else:
            out[key] = value
    return out


MISSING = object()

#: Remote handshakes both accept; both must agree on the same options (DK-3, DK-5).
ACCEPTED = [
    pytest.param(remote(), id="lz4-5"),
    pytest.param(remote(compression=None), id="nil-5"),
    pytest.param(remote(compression="zlib"), id="zlib-5"),
    pytest.param(remote(compression="zlib", pickle_protocol=4), id="zlib-4"),
    pytest.param(remote(pickle_protocol=4), id="lz4-4"),
    pytest.param(remote(pickle_protocol=0), id="pp-0"),
    pytest.param(remote(pickle_protocol=2**64 - 1), id="pp-2**64-1"),
    pytest.param(remote(compression=""), id="compression-empty-str"),
    pytest.param(remote(compression="LZ4"), id="compression-other-case"),
    pytest.param(remote(compression="brotli"), id="compression-unknown"),
    # distributed never reads "python" (DK-3)
    pytest.param(remote(python=MISSING), id="no-python"),
    pytest.param(remote(python="3.11"), id="python-str"),
    pytest.param(remote(python=None), id="python-nil"),
    pytest.param(remote(python=(3,)), id="python-short"),
    pytest.param({"pickle-protocol": 4, "x": 1, "compression": "lz4"}, id="other-order-extra"),
]


@pytest.mark.parametrize("local", LOCALS)
@pytest.mark.parametrize("theirs", ACCEPTED)
def test_both_accept_and_agree(local: dict[str, Any], theirs: dict[str, Any]) -> None:
    frames = dumps(theirs, **PLAIN)
    expected = Comm.handshake_configuration(local, loads(frames, deserialize=False))
    mine = read_handshake(frames)
    local_options = opts(local["compression"], local["pickle-protocol"])
    assert agree(local_options, mine) == as_options(expected)
    # the types match too: an int, a str or None
    assert type(expected["pickle-protocol"]) is int


@dataclass(frozen=True)
class Rejected:
    id: str
    theirs: dict[str, Any]
    #: What distributed's `handshake_configuration` raises.
    raises: type[Exception]


#: Remote handshakes distributed fails on: the reference rejects each with invalid-handshake.
REJECTED_BY_BOTH = [
    # the well-known "Your Dask versions may not be in sync" ValueError (from a KeyError)
    Rejected("no-pickle-protocol", remote(pickle_protocol=MISSING), ValueError),
    # a bare KeyError from `local["compression"] == remote["compression"]`
    Rejected("no-compression", remote(compression=MISSING), KeyError),
    Rejected("neither-key", {"python": PY}, ValueError),
    Rejected("empty-map", {}, ValueError),
    # min(5, "5"): TypeError
    Rejected("pp-str", remote(pickle_protocol="5"), TypeError),
    Rejected("pp-nil", remote(pickle_protocol=None), TypeError),
    Rejected("pp-array", remote(pickle_protocol=[5]), TypeError),
]


@pytest.mark.parametrize("local", LOCALS)
@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in REJECTED_BY_BOTH])
def test_both_reject(local: dict[str, Any], case: Rejected) -> None:
    frames = dumps(case.theirs, **PLAIN)
    with pytest.raises(case.raises) as theirs:
        Comm.handshake_configuration(local, loads(frames, deserialize=False))
    # exactly that class: a ValueError must not come from some other path
    assert type(theirs.value) is case.raises
    with pytest.raises(InvalidHandshake) as ours:
        read_handshake(frames)
    assert ours.value.category == "invalid-handshake"


@pytest.mark.parametrize("frames", [pytest.param([b"\x05"], id="int"), pytest.param([], id="none")])
def test_not_a_map_or_no_frames(frames: list[bytes]) -> None:
    """A first message that is no map: distributed's `remote["pickle-protocol"]` raises
    TypeError on an int; the reference says invalid-handshake (or its decoder's category)."""
    if frames:
        with pytest.raises(TypeError):
            Comm.handshake_configuration({"pickle-protocol": 5}, loads(frames))
    with pytest.raises(DaskwireError) as ours:
        read_handshake(frames)
    assert ours.value.category == ("invalid-handshake" if frames else "too-few-frames")


@dataclass(frozen=True)
class Difference:
    """A remote handshake distributed accepts and the reference rejects, by design (DK-3)."""

    id: str
    theirs: dict[str, Any]
    #: What distributed agrees on with the local handshake `lz4`/5.
    distributed_agrees: dict[str, Any]
    why: str


LOCAL_LZ4 = {"compression": "lz4", "python": PY, "pickle-protocol": 5}

DIFFERENCES = [
    Difference(
        "compression-int",
        remote(compression=5),
        {"pickle-protocol": 5, "compression": None},
        # distributed compares with ==: 5 != "lz4", so it silently agrees on no codec. A
        # handshake whose codec is no str or nil is malformed; DK-3 rejects it rather than
        # guess what the peer meant.
        "== comparison: 5 is just a codec that differs",
    ),
    Difference(
        "compression-bin",
        remote(compression=b"lz4"),
        {"pickle-protocol": 5, "compression": None},
        # b"lz4" != "lz4" in Python: distributed falls back to no codec although both sides
        # meant lz4. DK-3 makes the str/bin confusion an error instead of a silent downgrade.
        "bytes never equal str",
    ),
    Difference(
        "compression-array",
        remote(compression=["lz4"]),
        {"pickle-protocol": 5, "compression": None},
        # loads gives the tuple ("lz4",), which differs from "lz4".
        "a tuple never equals a str",
    ),
    Difference(
        "compression-true",
        remote(compression=True),
        {"pickle-protocol": 5, "compression": None},
        "True differs from 'lz4' under ==",
    ),
    Difference(
        "pp-true",
        remote(pickle_protocol=True),
        {"pickle-protocol": True, "compression": "lz4"},
        # min(5, True) is True: distributed then pickles with protocol True == 1. A bool is no
        # integer on the wire (msgpack true), so DK-3 rejects it.
        "min() takes bool as the int 1",
    ),
    Difference(
        "pp-false",
        remote(pickle_protocol=False),
        {"pickle-protocol": False, "compression": "lz4"},
        "min() takes bool as the int 0",
    ),
    Difference(
        "pp-minus-1",
        remote(pickle_protocol=-1),
        {"pickle-protocol": -1, "compression": "lz4"},
        # min(5, -1) is -1, which pickle.dumps reads as HIGHEST_PROTOCOL: the opposite of
        # what a peer that reads no pickle at all might mean. DK-3: non-negative only.
        "min() keeps a negative protocol; pickle reads -1 as the highest",
    ),
    Difference(
        "pp-float",
        remote(pickle_protocol=4.0),
        {"pickle-protocol": 4.0, "compression": "lz4"},
        # min(5, 4.0) is the float 4.0; pickle.dumps would then raise TypeError on the first
        # pickled value. DK-3 rejects the float at the handshake.
        "min() compares int and float",
    ),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in DIFFERENCES])
def test_deliberate_differences(case: Difference) -> None:
    """distributed accepts these handshakes; the reference rejects them (DK-3). If a release
    of distributed starts rejecting one, this test fails: update the spec's notes."""
    frames = dumps(case.theirs, **PLAIN)
    got = Comm.handshake_configuration(LOCAL_LZ4, loads(frames, deserialize=False))
    assert got == case.distributed_agrees, case.why
    assert {k: type(v) for k, v in got.items()} == {
        k: type(v) for k, v in case.distributed_agrees.items()
    }
    with pytest.raises(InvalidHandshake) as ours:
        read_handshake(frames)
    assert ours.value.category == "invalid-handshake"


# --- 3. real TCP on loopback, both directions ---


async def read_first_message(
    reader: asyncio.StreamReader, frames: dw.FrameReader
) -> tuple[bytes, list[bytes]]:
    """The raw bytes and frames of the first message on the socket, read with daskwire's
    FrameReader. Fails if the peer wrote more than one message before it."""
    raw = bytearray()
    while True:
        data = await reader.read(65_536)
        if not data:
            msg = f"EOF after {len(raw)} bytes, before a whole handshake"
            raise ConnectionError(msg)
        raw += data
        messages = frames.feed(data)
        if messages:
            assert len(messages) == 1
            assert frames.buffered == 0
            return bytes(raw), blobs(messages[0])


async def close_writer(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


@dataclass
class ListenerSide:
    """What distributed's listener ended with, captured in its comm handler."""

    options: dict[str, Any]
    remote_info: dict[str, Any]
    local_info: dict[str, Any]


@dataclass
class RawSide:
    """What the raw daskwire peer read and computed."""

    peer_bytes: bytes
    peer_options: ConnectionOptions
    agreed: ConnectionOptions


async def client_session(
    local: ConnectionOptions, client_host: str
) -> tuple[RawSide, ListenerSide]:
    """A distributed listener on LISTENER_HOST; a raw client from `client_host` that writes
    daskwire's handshake, then reads the listener's (DK-1: both write first)."""
    captured: asyncio.Queue[ListenerSide] = asyncio.Queue()

    async def handle_comm(comm: Any) -> None:
        try:
            captured.put_nowait(
                ListenerSide(
                    dict(comm.handshake_options), dict(comm.remote_info), dict(comm.local_info)
                )
            )
        finally:
            await comm.close()

    listener = listen(f"tcp://{LISTENER_HOST}:0", handle_comm, deserialize=False)
    await asyncio.wait_for(listener.start(), 5)
    try:
        port = listener.get_host_port()[1]
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(LISTENER_HOST, port, local_addr=(client_host, 0)), 5
        )
        try:
            writer.write(dw.pack_bytes(write_handshake(local)))
            await writer.drain()
            peer_bytes, frames = await asyncio.wait_for(
                read_first_message(reader, dw.FrameReader()), 5
            )
            side = await asyncio.wait_for(captured.get(), 5)
        finally:
            await close_writer(writer)
    finally:
        listener.stop()
    peer = read_handshake(frames)
    return RawSide(peer_bytes, peer, agree(local, peer)), side


async def server_session(local: ConnectionOptions) -> tuple[RawSide, Any]:
    """A raw server on CLIENT_HOST that writes daskwire's handshake and reads the peer's; a
    distributed `connect` to it. Returns what both ended with."""
    raw: asyncio.Queue[RawSide | BaseException] = asyncio.Queue()
    writers: list[asyncio.StreamWriter] = []

    async def peer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        try:
            writer.write(dw.pack_bytes(write_handshake(local)))
            await writer.drain()
            peer_bytes, frames = await read_first_message(reader, dw.FrameReader())
            options = read_handshake(frames)
            raw.put_nowait(RawSide(peer_bytes, options, agree(local, options)))
            # hold the connection until the comm closes it
            while await reader.read(65_536):
                pass
        except (ConnectionError, DaskwireError, AssertionError) as exc:
            raw.put_nowait(exc)
        finally:
            await close_writer(writer)

    server = await asyncio.start_server(peer, CLIENT_HOST, 0)
    try:
        port = server.sockets[0].getsockname()[1]
        comm = await connect(f"tcp://{CLIENT_HOST}:{port}", timeout=5, deserialize=False)
        try:
            got = await asyncio.wait_for(raw.get(), 5)
            connected = SimpleNamespace(
                options=dict(comm.handshake_options),
                remote_info=dict(comm.remote_info),
                local_info=dict(comm.local_info),
                same_host=comm.same_host,
            )
        finally:
            await comm.close()
        for writer in writers:
            await asyncio.wait_for(close_writer(writer), 5)
    finally:
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)
    if isinstance(got, BaseException):
        raise got
    return got, connected


def without_address(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k != "address"}


PROPOSALS = [
    pytest.param(opts("lz4", 5), id="lz4-5"),
    pytest.param(opts(None, 5), id="nil-5"),
    pytest.param(opts("lz4", 4), id="lz4-4"),
    pytest.param(opts("zlib", 5), id="zlib-5"),
]


@pytest.mark.parametrize("local", PROPOSALS)
def test_raw_client_to_distributed_listener(local: ConnectionOptions) -> None:
    with codec_config("lz4"):
        ours, theirs = asyncio.run(
            asyncio.wait_for(client_session(local, CLIENT_HOST), SESSION_SECONDS)
        )
    # the listener proposed its configured codec, in the bytes the reference writes for it
    assert ours.peer_options == opts("lz4", 5)
    assert ours.peer_bytes == dw.pack_bytes(write_handshake(opts("lz4", 5), HERE))
    assert without_address(theirs.local_info) == {
        "compression": "lz4",
        "python": HERE,
        "pickle-protocol": 5,
    }
    # it read exactly what daskwire wrote
    assert without_address(theirs.remote_info) == {
        "compression": local.compression,
        "python": PY,
        "pickle-protocol": local.pickle_protocol,
    }
    # DK-5: both sides computed the same options
    assert as_options(theirs.options) == ours.agreed


def test_raw_client_on_the_same_host() -> None:
    """From the listener's own address the listener proposes nil, lz4 configured or not."""
    local = opts("lz4", 5)
    with codec_config("lz4"):
        ours, theirs = asyncio.run(
            asyncio.wait_for(client_session(local, LISTENER_HOST), SESSION_SECONDS)
        )
    assert ours.peer_options == opts(None, 5)
    assert ours.agreed == opts(None, 5)
    assert as_options(theirs.options) == ours.agreed


@pytest.mark.parametrize("local", PROPOSALS)
def test_distributed_connect_to_raw_server(local: ConnectionOptions) -> None:
    with codec_config("lz4"):
        ours, theirs = asyncio.run(asyncio.wait_for(server_session(local), SESSION_SECONDS))
    # connect binds no local address: it comes from 127.0.0.1 to CLIENT_HOST, another host
    assert theirs.same_host is False
    assert ours.peer_options == opts("lz4", 5)
    assert ours.peer_bytes == dw.pack_bytes(write_handshake(opts("lz4", 5), HERE))
    assert without_address(theirs.local_info) == {
        "compression": "lz4",
        "python": HERE,
        "pickle-protocol": 5,
    }
    assert without_address(theirs.remote_info) == {
        "compression": local.compression,
        "python": PY,
        "pickle-protocol": local.pickle_protocol,
    }
    assert as_options(theirs.options) == ours.agreed
