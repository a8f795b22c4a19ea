"""What one message holds, in a few fields: its ops, its offloaded values, its handshake."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import daskwire
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.model import Offloaded, Pickled

__all__ = [
    "HandshakeSummary",
    "OffloadedSummary",
    "Summary",
    "offloaded_summary",
    "offloaded_values",
    "ops_of",
    "summarize",
]

#: Keys of a header that are plain text naming the value's type, by serializer family:
#: `type` (dask, cuda), `type-serialized` is a pickle and never shown as a name.
TYPE_KEYS: Final = ("type",)
#: Serializers whose first frame is a pickle (distributed's `pickle` and `cloudpickle` families).
PICKLE_SERIALIZERS: Final = frozenset({"pickle", "cloudpickle"})
#: How much of such a frame a summary keeps, to name the globals the pickle starts with.
PICKLE_HEAD: Final = 1 << 16
#: The op a batch element or message has when it names none.
NO_OP: Final = "-"


@dataclass(frozen=True, slots=True, kw_only=True)
class OffloadedSummary:
    """One offloaded value, in one line's worth of fields."""

    #: Where it stands in the message, as a path: `$.data['x'][0]`.
    path: str
    #: `serialized` (a `__Serialized__` or placeholder value) or `pickled` (`__Pickled__`).
    kind: str
    serializer: str | None
    #: The type name the header gives as plain text, if any.
    type_name: str | None
    #: The sizes of its data frames on the wire.
    frame_sizes: tuple[int, ...]
    #: The codec of each data frame (None for none), as the header says.
    compression: tuple[str | None, ...]
    #: How many shards each original frame was split into, when the header says.
    shards: tuple[int, ...] | None
    #: The pickle bytes a `__Pickled__` value carries in its header (`pickled-obj`), if any.
    pickle: bytes | None = None
    #: For a value whose serializer writes a pickle (`PICKLE_SERIALIZERS`) into an
    #: uncompressed first frame: that frame's first `PICKLE_HEAD` bytes, enough to name the
    #: globals it starts with. Opaque bytes: never loaded.
    pickle_head: bytes | None = None

    @property
    def nbytes(self) -> int:
        """Its bytes on the wire: its data frames', and for a pickled value its pickle's
        too (a pickled value is counted by its size: pickle bytes plus buffers)."""
        return sum(self.frame_sizes) + (len(self.pickle) if self.pickle is not None else 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class HandshakeSummary:
    """What one side proposed in its comm handshake (DK-2), and its Python version."""

    compression: str | None
    pickle_protocol: int
    #: The `"python"` entry as written, informative only (DK-3).
    python: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """One message in a few fields; `value` is the message as a forwarding receiver reads it."""

    ops: tuple[str, ...]
    #: True for a batch: a top-level array of messages.
    batch: bool
    offloaded: tuple[OffloadedSummary, ...]
    value: Any
    handshake: HandshakeSummary | None = None
    #: When the message does not decode: the spec's category, the requirement and why.
    category: str | None = None
    requirement: str | None = None
    error: str | None = None


#: Characters of a map key's text kept in a path; a longer key is cut, so a path stays short.
PATH_KEY_CHARS: Final = 40


def _key_text(key: Any) -> str:
    if type(key) is str:
        text = key if len(key) <= PATH_KEY_CHARS else key[:PATH_KEY_CHARS] + "..."
        return repr(text)
    if type(key) is int or key is None or type(key) is bool:
        return repr(key)
    return f"<{type(key).__name__}>"


def _path(root: str, chain: tuple[Any, ...] | None) -> str:
    parts: list[str] = []
    while chain is not None:
        chain, step = chain
        parts.append(step)
    return root + "".join(f"[{p}]" for p in reversed(parts))


def offloaded_values(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """Every offloaded or pickled value in a decoded message, with its path, in pre-order.

    The walk uses an explicit stack, so a message nested as deep as the limits allow does not
    exhaust Python's recursion limit. A path is built only for a value that is yielded, from
    a chain of steps shared between siblings, and a map key's text in it is cut to
    `PATH_KEY_CHARS`: the work is bounded by the message's size, not its depth times its keys.
    """
    stack: list[tuple[tuple[Any, ...] | None, Any]] = [(None, value)]
    while stack:
        chain, node = stack.pop()
        if isinstance(node, Offloaded | Pickled):
            yield _path(path, chain), node
        elif isinstance(node, Mapping):
            stack.extend(
                reversed([((chain, _key_text(k)), v) for k, v in node.items() if _nests(v)])
            )
        elif isinstance(node, list | tuple):
            stack.extend(reversed([((chain, str(i)), v) for i, v in enumerate(node) if _nests(v)]))


def _nests(node: Any) -> bool:
    """Whether an offloaded value may stand at or below `node`."""
    return isinstance(node, Offloaded | Pickled | Mapping | list | tuple)


def _op(node: Any) -> str:
    if isinstance(node, Mapping):
        op = node.get("op")
        return op if isinstance(op, str) else NO_OP
    return NO_OP  # a bare reply ("OK"), or any other value: it names no op


def ops_of(value: Any) -> tuple[tuple[str, ...], bool]:
    """The ops of a message (one; for a batch, each element's) and whether it is a batch.

    A top-level array is a batch on a stream connection and a bare reply on a request/reply
    one (DB-1), and the bytes do not say which. It is taken for a batch when some element is
    a map, as a batch's messages are (an element that is not, such as an "OK", has no op;
    distributed still dispatches the others). An array without a map, such as the list of
    keys a scatter replies with, or an empty one (`BatchedSend` never sends one), is a bare
    reply, which names no op."""
    if isinstance(value, list | tuple):
        if any(isinstance(item, Mapping) for item in value):
            return tuple(_op(item) for item in value), True
        return (NO_OP,), False
    return (_op(value),), False


def _codecs(header: Mapping[Any, Any], count: int) -> tuple[str | None, ...]:
    codecs = header.get("compression")
    if isinstance(codecs, list | tuple) and len(codecs) == count:
        return tuple(c if isinstance(c, str) else None for c in codecs)
    return (None,) * count


def offloaded_summary(path: str, node: Offloaded | Pickled) -> OffloadedSummary:
    """One offloaded or pickled value, standing at `path`, in one line's worth of fields."""
    header = node.header
    sizes = tuple(len(memoryview(f).cast("B")) for f in node.frames)
    serializer = header.get("serializer")
    type_name = next((header[k] for k in TYPE_KEYS if isinstance(header.get(k), str)), None)
    shards = header.get("split-num-sub-frames")
    pickle = header.get("pickled-obj") if isinstance(node, Pickled) else None
    codecs = _codecs(header, len(sizes))
    head = None
    if serializer in PICKLE_SERIALIZERS and sizes and codecs[0] is None:
        head = bytes(memoryview(node.frames[0]).cast("B")[:PICKLE_HEAD])
    return OffloadedSummary(
        path=path,
        kind="pickled" if isinstance(node, Pickled) else "serialized",
        serializer=serializer if isinstance(serializer, str) else None,
        type_name=type_name,
        frame_sizes=sizes,
        compression=codecs,
        shards=(
            tuple(shards)
            if isinstance(shards, list | tuple) and all(type(s) is int for s in shards)
            else None
        ),
        pickle=bytes(pickle) if isinstance(pickle, bytes | bytearray | memoryview) else None,
        pickle_head=head,
    )


def _handshake(
    profile: daskwire.Profile, frames: Sequence[memoryview], value: Any, limits: Limits
) -> tuple[HandshakeSummary | None, daskwire.DaskwireError | None]:
    assert profile.read_handshake is not None
    try:
        options = profile.read_handshake(frames, limits)
    except daskwire.DaskwireError as exc:
        return None, exc
    python = value.get("python") if isinstance(value, Mapping) else None
    summary = HandshakeSummary(
        compression=options.compression, pickle_protocol=options.pickle_protocol, python=python
    )
    return summary, None


def summarize(
    profile_name: str,
    frames: Sequence[memoryview],
    *,
    first: bool = False,
    limits: Limits = DEFAULT_LIMITS,
) -> Summary:
    """Decode one message as a forwarding receiver and sum it up; `first` reads the first
    message of a connection as its comm handshake, where the profile has one (DK-3)."""
    profile = daskwire.get_profile(profile_name)
    try:
        value = profile.decode(list(frames), mode="forwarding", limits=limits)
    except daskwire.DaskwireError as exc:
        return Summary(
            ops=(),
            batch=False,
            offloaded=(),
            value=None,
            category=str(exc.category.value),
            requirement=exc.requirement,
            error=str(exc),
        )
    ops, batch = ops_of(value)
    offloaded = tuple(offloaded_summary(p, n) for p, n in offloaded_values(value))
    handshake = None
    if first and profile.read_handshake is not None:
        handshake, error = _handshake(profile, frames, value, limits)
        if error is not None:
            return Summary(
                ops=ops,
                batch=batch,
                offloaded=offloaded,
                value=value,
                category=str(error.category.value),
                requirement=error.requirement,
                error=str(error),
            )
    return Summary(ops=ops, batch=batch, offloaded=offloaded, value=value, handshake=handshake)
