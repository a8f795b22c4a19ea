"""The harness testee interface, the reference codec as a testee, and the stdio serve loop."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final, Protocol, runtime_checkable

__all__ = [
    "PROFILES_PROTOCOL",
    "PROTOCOL_VERSION",
    "PROTOCOL_VERSIONS",
    "ReferenceTestee",
    "Testee",
    "serve",
]

#: Harness protocol version 1 (spec/harness.md), as testees written against it answer `start`
#: with it; this name means 1, as it always has.
PROTOCOL_VERSION: Final = 1
#: The first version whose requests name their profile (spec/harness.md, "Profiles").
PROFILES_PROTOCOL: Final = 2
#: Every harness protocol version this kit speaks, oldest first. Version 1 is placeholder-v1's.
PROTOCOL_VERSIONS: Final = (PROTOCOL_VERSION, PROFILES_PROTOCOL)


@runtime_checkable
class Testee(Protocol):
    """An implementation under test, in process: one method that answers harness requests.

    `handle` receives each request object exactly as it travels over stdio (`cmd`, `seq` and
    the command's fields, frames as hex, values in typed notation) and returns the reply object
    (`outcome` and `result`, `category`, `reason` or `message`). `seq` may be left out of the
    reply: the runner fills it in. The first request is always `start`; the last is `stop`.
    An exception escaping `handle` is reported as an `errored` reply for that request.
    """

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        """Answer one harness request with one reply object."""
        ...


def _hex_frames(frames: Sequence[Any]) -> list[str]:
    return [bytes(frame).hex() for frame in frames]


class ReferenceTestee:
    """The reference codec (`daskwire`) behind the harness protocol.

    Each command maps to one overridable method working on Python values (`encode`, `decode`,
    `unpack`, `stream`); `handle` does the notation and hex conversions and turns
    `DaskwireError` into a `rejected` reply. Subclasses that perturb one method make
    deliberately broken implementations (the suite's mutants).
    """

    name = "daskwire"
    language = "python"
    #: The profile of the request being answered: placeholder-v1 under protocol 1, else the
    #: request's `profile`. The codec methods below use this profile's registry entry.
    profile = "placeholder-v1"
    #: The protocol version agreed in the last `start`, and the profiles declared there.
    _protocol = PROTOCOL_VERSION
    _declared: frozenset[str] = frozenset()

    def implementation(self) -> dict[str, Any]:
        """The `implementation` object of the start reply."""
        from daskwire import __version__

        return {"name": self.name, "version": __version__, "language": self.language}

    #: The profiles it declares under protocol 2; None: every profile of the registry.
    only: tuple[str, ...] | None = None

    def profiles(self) -> dict[str, dict[str, Any]]:
        """The `profiles` object of a protocol 2 start reply: every profile of the registry,
        or those of `only`."""
        from daskwire import PROFILES

        names = PROFILES if self.only is None else [p for p in PROFILES if p in self.only]
        return {name: self.capabilities_for(name) for name in names}

    def capabilities_for(self, profile: str) -> dict[str, Any]:
        """One profile's capabilities: `capabilities()`, and `handshake` for a profile whose
        connections start with a comm handshake (dask-2023.11)."""
        from daskwire import get_profile

        caps = self.capabilities()
        if get_profile(profile).handshake is not None:
            caps["handshake"] = True
        return caps

    def capabilities(self) -> dict[str, Any]:
        """The `capabilities` object of the start reply: everything the reference does."""
        from daskwire import SUPPORTED_CODECS

        return {
            "directions": ["encode", "decode-forwarding", "decode-consuming", "wire"],
            "codecs": list(SUPPORTED_CODECS),
            "canonical": True,
            "limits": True,
            "encode-limits": True,
            "pack": True,
            "default-shard-size": True,
            "str-utf16": True,
        }

    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        """Encode a message into frames; `limits` (a keyword given only when the request has
        some) bound its depth (LM-8)."""
        import daskwire

        if shard_size is not None:
            kwargs["shard_size"] = shard_size
        return daskwire.get_profile(self.profile).encode(message, compression=compression, **kwargs)

    def pack(self, frames: list[bytes]) -> bytes:
        """The wire bytes of one message (WF-1)."""
        import daskwire

        return b"".join(daskwire.get_profile(self.profile).pack(frames))

    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        """Decode frames into a message in the given receiver mode."""
        import daskwire

        return daskwire.get_profile(self.profile).decode(frames, mode=mode, limits=limits)

    def unpack(self, data: bytes, *, limits: Any) -> Any:
        """Split the wire bytes of one message into frames."""
        import daskwire

        return daskwire.get_profile(self.profile).unpack(data, limits=limits)

    def handshake(
        self, local: Mapping[str, Any], frames: list[bytes], *, limits: Any
    ) -> dict[str, Any]:
        """One side of a connection that proposes `local`: its own handshake frames and the
        options it agrees with the peer whose handshake is `frames` (DK-1 to DK-5). The
        result's `agreed` is in harness form; `_dispatch` encodes a request's `message`
        with it (DK-6)."""
        from daskwire import ConnectionOptions, get_profile

        entry = get_profile(self.profile)
        if entry.handshake is None:
            msg = f"profile {self.profile} has no comm handshake"
            raise ValueError(msg)
        proposal = ConnectionOptions(
            compression=local["compression"], pickle_protocol=local["pickle-protocol"]
        )
        mine, agreed = entry.handshake(proposal, frames, limits)
        return {
            "frames": _hex_frames(mine),
            "agreed": {
                "compression": agreed.compression,
                "pickle-protocol": agreed.pickle_protocol,
            },
        }

    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        """Read a byte stream fed in the given chunks; return every complete message's frames.

        On an error, the messages completed before it are sent with the rejection (WF-6).
        """
        import daskwire

        reader = daskwire.get_profile(self.profile).stream_reader(limits)
        messages: list[Any] = []
        try:
            for chunk in chunks:
                messages.extend(reader.feed(chunk))
            reader.close()
        except daskwire.DaskwireError as exc:
            raise _StreamError(exc, messages) from exc
        return messages

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        """Answer one request (see `Testee.handle`)."""
        from daskwire import DaskwireError

        try:
            result = self._dispatch(request)
        except _StreamError as exc:
            # the messages read before the error travel with the rejection (optional field)
            reply = self.handle_error(exc.error)
            reply["messages"] = [_hex_frames(m) for m in exc.messages]
            return reply
        except DaskwireError as exc:
            return self.handle_error(exc)
        except Exception as exc:
            text = "".join(traceback.format_exception_only(exc)).strip()
            return {"outcome": "errored", "message": text}
        return {"outcome": "ok", "result": result}

    def _request_profile(self, request: Mapping[str, Any]) -> str:
        """The profile a request is for; a protocol 2 request names one the testee declared."""
        from daskwire import PROFILE

        if self._protocol == PROTOCOL_VERSION:
            return PROFILE
        profile = request.get("profile")
        if profile not in self._declared:
            msg = f"profile {profile!r} is not one this testee declared in start"
            raise ValueError(msg)
        return str(profile)

    @staticmethod
    def handle_error(exc: Any) -> dict[str, Any]:
        """The `rejected` reply to a `DaskwireError`."""
        return {"outcome": "rejected", "category": str(exc.category), "message": str(exc)}

    def _dispatch(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from daskwire.limits import DEFAULT_LIMITS, Limits
        from daskwire.notation import to_notation

        cmd = request.get("cmd")
        limits = Limits(**request["limits"]) if request.get("limits") else DEFAULT_LIMITS
        if cmd == "start":
            offered = request.get("protocols") or [request.get("protocol")]
            self._protocol = PROFILES_PROTOCOL if PROFILES_PROTOCOL in offered else PROTOCOL_VERSION
            if self._protocol == PROTOCOL_VERSION:
                from daskwire import PROFILE

                if self.only is not None and PROFILE not in self.only:
                    # version 1 means placeholder-v1, which this testee does not implement
                    msg = f"this testee implements {', '.join(self.only)}: that needs protocol 2"
                    raise ValueError(msg)
                return {
                    "protocol": PROTOCOL_VERSION,
                    "implementation": self.implementation(),
                    "capabilities": self.capabilities(),
                }
            profiles = self.profiles()
            self._declared = frozenset(profiles)
            return {
                "protocol": PROFILES_PROTOCOL,
                "implementation": self.implementation(),
                "profiles": profiles,
            }
        if cmd != "stop":
            self.profile = self._request_profile(request)
        if cmd == "encode":
            options = request.get("options") or {}
            extra = {"limits": limits} if request.get("limits") else {}
            frames = self.encode(
                _message_to_encode(request["message"]),
                compression=options.get("compression"),
                shard_size=options.get("shard_size"),
                **extra,
            )
            return {"frames": _hex_frames(frames)}
        if cmd == "pack":
            return {"wire": self.pack([bytes.fromhex(f) for f in request["frames"]]).hex()}
        if cmd == "decode":
            frames = [bytes.fromhex(f) for f in request["frames"]]
            message = self.decode(frames, mode=request["mode"], limits=limits)
            return {"message": to_notation(message)}
        if cmd == "unpack":
            return {
                "frames": _hex_frames(self.unpack(bytes.fromhex(request["wire"]), limits=limits))
            }
        if cmd == "stream":
            chunks = [bytes.fromhex(c) for c in request["chunks"]]
            return {"messages": [_hex_frames(m) for m in self.stream(chunks, limits=limits)]}
        if cmd == "handshake":
            frames = [bytes.fromhex(f) for f in request["frames"]]
            result = self.handshake(request["local"], frames, limits=limits)
            if "message" in request:  # the connection's next message, on the agreed codec
                encoded = self.encode(
                    _message_to_encode(request["message"]),
                    compression=result["agreed"]["compression"],
                    shard_size=None,
                )
                result = {**result, "encoded": _hex_frames(encoded)}
            if "receive" in request:  # the peer's next message, whatever codec it used
                sent = [bytes.fromhex(f) for f in request["receive"]]
                message = self.decode(sent, mode="consuming", limits=limits)
                result = {**result, "received": to_notation(message)}
            return result
        if cmd == "stop":
            return {}
        msg = f"unknown command {cmd!r}"
        raise ValueError(msg)


class _StreamError(Exception):
    """A stream error, with the messages read before it."""

    def __init__(self, error: Exception, messages: list[Any]) -> None:
        super().__init__(str(error))
        self.error = error
        self.messages = messages


def _message_to_encode(node: Any) -> Any:
    """The Python value of an encode request; one Python cannot build is unencodable here."""
    from daskwire import UnencodableValue
    from daskwire.notation import NotationError, from_notation

    try:
        return from_notation(node)
    except NotationError as exc:  # e.g. an offloaded value as a map key: unhashable in Python
        raise UnencodableValue(str(exc)) from exc


def _read_request(line: bytes) -> dict[str, Any] | str:
    """The request object on one line, or why the line is none (serve notes it and goes on)."""
    try:
        request = json.loads(line)
    except ValueError as exc:
        return f"not JSON: {exc}"
    except RecursionError:
        return "nested too deeply to read"
    if not isinstance(request, dict):
        return f"not a JSON object but {_JSON_TYPES.get(type(request), 'a value')}"
    return request


_JSON_TYPES: Final = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _reply_object(testee: Testee, request: Mapping[str, Any]) -> dict[str, Any]:
    try:
        answer = testee.handle(request)
    except Exception as exc:
        return {"outcome": "errored", "message": f"{type(exc).__name__}: {exc}"}
    if isinstance(answer, Mapping):
        return dict(answer)
    return {
        "outcome": "errored",
        "message": f"the testee's reply is not a reply object: {answer!r:.200}",
    }


def _reply_line(testee: Testee, request: Mapping[str, Any]) -> str:
    """The reply line to a request; a reply that cannot be sent is turned into `errored`."""
    reply = _reply_object(testee, request)
    reply["seq"] = request.get("seq")
    try:
        return json.dumps(reply, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        message = f"the testee's reply is not JSON: {type(exc).__name__}: {exc}"
        fallback = {"outcome": "errored", "message": message, "seq": request.get("seq")}
        return json.dumps(fallback, separators=(",", ":"), default=repr)


def serve(testee: Testee, stdin: IO[bytes] | None = None, stdout: IO[str] | None = None) -> int:
    """Serve a testee over JSON lines until `stop` or end of input; returns an exit code.

    A line that is no request (not JSON, not an object, nested too deeply to read) gets no
    reply: a note on standard error, and serve reads the next line.
    """
    source = stdin if stdin is not None else sys.stdin.buffer
    sink = stdout if stdout is not None else sys.stdout
    for line in source:
        if not line.strip():
            continue
        request = _read_request(line)
        if isinstance(request, str):
            print(f"daskwire serve: ignoring a request that is {request}", file=sys.stderr)
            continue
        sink.write(_reply_line(testee, request) + "\n")
        sink.flush()
        if request.get("cmd") == "stop":
            break
    return 0
