"""The typed value notation: a lossless JSON form of messages, shared by vectors and harness."""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from typing import Any, Final

from .model import Buffer, EnumValue, Float32, Materialized, Offloaded, Pickled, SetValue

__all__ = [
    "NotationError",
    "difference",
    "frame_from_notation",
    "frame_to_notation",
    "from_notation",
    "same",
    "to_notation",
    "value_kind",
]

#: Integers with a magnitude up to this travel as JSON numbers; larger ones as {"int": "..."}.
JSON_SAFE_INT: Final = 2**53 - 1
#: Frames up to this many bytes are written as hex even when they repeat a pattern.
HEX_FRAME_MAX: Final = 256
#: The longest pattern `frame_to_notation` looks for when it compacts a frame.
MAX_PATTERN: Final = 64
#: The largest frame `from_notation` expands from a repeat form (a guard against typos).
MAX_REPEAT_LENGTH: Final = 2**31

_F64 = struct.Struct("<d")
_INT_MIN, _INT_MAX = -(2**63), 2**64 - 1


#: The notation tag of each value type that holds a header and frames.
_WIRE_TAGS: Final[dict[type, str]] = {
    Offloaded: "offloaded",
    Materialized: "materialized",
    Pickled: "pickled",
}
_TAG_TYPES: Final[dict[str, type[Offloaded] | type[Materialized] | type[Pickled]]] = {
    tag: kind for kind, tag in _WIRE_TAGS.items()
}


class NotationError(ValueError):
    """A JSON document is not valid typed value notation (spec/notation.md)."""


def _float_text(value: float) -> str:
    return repr(float(value))


def _parse_float(text: object, tag: str) -> float:
    if not isinstance(text, str):
        msg = f"{{{tag!r}: ...}} takes a string, not {type(text).__name__}"
        raise NotationError(msg)
    try:
        return float(text)
    except ValueError as exc:
        msg = f"{{{tag!r}: {text!r}}} is not a decimal float, 'nan', 'inf' or '-inf'"
        raise NotationError(msg) from exc


def frame_to_notation(frame: Buffer) -> Any:
    """Write a frame as lowercase hex, or as a repeat form when it is long and periodic."""
    data = bytes(frame)
    n = len(data)
    if n > HEX_FRAME_MAX:
        for period in range(1, MAX_PATTERN + 1):
            pattern = data[:period]
            if (pattern * (n // period + 1))[:n] == data:
                return {"repeat": pattern.hex(), "length": n}
    return data.hex()


def frame_from_notation(node: Any) -> bytes:
    """Read a frame written as hex or as {"repeat": hex, "length": n}."""
    if isinstance(node, str):
        try:
            return bytes.fromhex(node)
        except ValueError as exc:
            msg = f"frame {node[:40]!r} is not hex"
            raise NotationError(msg) from exc
    if isinstance(node, Mapping) and set(node) == {"repeat", "length"}:
        pattern = frame_from_notation(node["repeat"])
        length = node["length"]
        if type(length) is not int or not 0 <= length <= MAX_REPEAT_LENGTH:
            msg = f"repeat length {length!r} is not an integer in [0, 2**31]"
            raise NotationError(msg)
        if not pattern and length:
            msg = "repeat form with an empty pattern and a non-zero length"
            raise NotationError(msg)
        if not pattern:
            return b""
        return (pattern * (length // len(pattern) + 1))[:length]
    msg = f"a frame is a hex string or {{'repeat', 'length'}}, not {node!r:.60}"
    raise NotationError(msg)


def to_notation(value: Any) -> Any:
    """Return the typed notation of a message value (tuples and lists both become arrays)."""
    if value is None or value is True or value is False:
        return value
    kind = type(value)
    if kind is int:
        if not _INT_MIN <= value <= _INT_MAX:
            msg = f"integer {value} is outside the msgpack range"
            raise NotationError(msg)
        return value if -JSON_SAFE_INT <= value <= JSON_SAFE_INT else {"int": str(value)}
    if kind is str:
        return value if _is_text(value) else {"str-utf16": _utf16_units(value)}
    if kind is Float32:
        return {"float32": _float_text(value)}
    if kind is float:
        return {"float64": _float_text(value)}
    if kind in (bytes, bytearray, memoryview):
        return {"bin": bytes(value).hex()}
    if kind in (tuple, list):
        return [to_notation(item) for item in value]
    if isinstance(value, Mapping):
        return {"map": [[to_notation(k), to_notation(v)] for k, v in value.items()]}
    if kind is SetValue:
        return {"set": [to_notation(item) for item in value.items]}
    if kind is EnumValue:
        return {"enum": {"module": value.module, "class": value.class_name, "name": value.name}}
    if kind is Offloaded or kind is Materialized or kind is Pickled:
        tag = _WIRE_TAGS[kind]
        return {
            tag: {
                "header": to_notation(value.header),
                "frames": [frame_to_notation(f) for f in value.frames],
            }
        }
    msg = f"{kind.__name__} has no typed notation"
    raise NotationError(msg)


def from_notation(node: Any) -> Any:
    """Build the message value a typed notation document denotes (arrays become tuples)."""
    if node is None or node is True or node is False or isinstance(node, str):
        return node
    if type(node) is int:
        if not -JSON_SAFE_INT <= node <= JSON_SAFE_INT:
            msg = f"JSON number {node} is beyond 2**53; write {{'int': '{node}'}}"
            raise NotationError(msg)
        return node
    if isinstance(node, float):
        msg = f"JSON number {node} is not allowed; write {{'float64': '{node!r}'}}"
        raise NotationError(msg)
    if isinstance(node, list):
        return tuple(from_notation(item) for item in node)
    if not isinstance(node, Mapping) or len(node) != 1:
        msg = f"a tagged value is an object with exactly one key, not {node!r:.60}"
        raise NotationError(msg)
    ((tag, body),) = node.items()
    if tag == "int":
        if not isinstance(body, str):
            msg = "{'int': ...} takes a decimal string"
            raise NotationError(msg)
        try:
            number = int(body, 10)
        except ValueError as exc:
            msg = f"{{'int': {body!r}}} is not a decimal integer"
            raise NotationError(msg) from exc
        if not _INT_MIN <= number <= _INT_MAX:
            msg = f"integer {number} is outside [-2**63, 2**64-1]"
            raise NotationError(msg)
        return number
    if tag == "float64":
        return _parse_float(body, tag)
    if tag == "float32":
        value = _parse_float(body, tag)
        try:
            rounded = Float32(value)
        except OverflowError as exc:
            msg = f"{{'float32': {body!r}}} does not fit a float32"
            raise NotationError(msg) from exc
        if not math.isnan(value) and _F64.pack(rounded) != _F64.pack(value):
            msg = f"{{'float32': {body!r}}} is not exactly representable as a float32"
            raise NotationError(msg)
        return rounded
    if tag == "bin":
        return frame_from_notation(body) if isinstance(body, str) else _bad_bin(body)
    if tag == "str-utf16":
        return _str_from_units(body)
    if tag == "map":
        return _map_from_notation(body)
    if tag == "set":
        if not isinstance(body, list):
            msg = "{'set': ...} takes an array"
            raise NotationError(msg)
        return SetValue([from_notation(item) for item in body])
    if tag == "enum":
        if not isinstance(body, Mapping) or set(body) != {"module", "class", "name"}:
            msg = "{'enum': ...} takes an object with 'module', 'class' and 'name'"
            raise NotationError(msg)
        if not all(isinstance(body[k], str) for k in ("module", "class", "name")):
            msg = "the names of {'enum': ...} must be strings"
            raise NotationError(msg)
        return EnumValue(body["module"], body["class"], body["name"])
    if tag in _TAG_TYPES:
        if not isinstance(body, Mapping) or set(body) != {"header", "frames"}:
            msg = f"{{{tag!r}: ...}} takes an object with 'header' and 'frames'"
            raise NotationError(msg)
        header = from_notation(body["header"])
        if not isinstance(header, dict):
            msg = f"the header of {tag!r} must be a map"
            raise NotationError(msg)
        if not isinstance(body["frames"], list):
            msg = f"the frames of {tag!r} must be an array"
            raise NotationError(msg)
        frames = [frame_from_notation(f) for f in body["frames"]]
        return _TAG_TYPES[tag](header, frames)
    msg = f"unknown tag {tag!r}"
    raise NotationError(msg)


def _is_text(value: str) -> bool:
    """True when a str is Unicode text: it holds no lone surrogate (UTF-8 can carry it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _utf16_units(value: str) -> list[int]:
    """The UTF-16 code units of a str that may hold lone surrogates (CE-11)."""
    data = value.encode("utf-16-le", "surrogatepass")
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data), 2)]


def _str_from_units(body: Any) -> str:
    """Read {"str-utf16": [unit, ...]}: a str that is not Unicode text (a lone surrogate)."""
    if not isinstance(body, list) or not all(type(u) is int and 0 <= u <= 0xFFFF for u in body):
        msg = "{'str-utf16': ...} takes an array of UTF-16 code units (0 to 65535)"
        raise NotationError(msg)
    data = b"".join(u.to_bytes(2, "little") for u in body)
    value = data.decode("utf-16-le", "surrogatepass")
    if _is_text(value):
        msg = "{'str-utf16': ...} is only for a str with a lone surrogate; write a JSON string"
        raise NotationError(msg)
    return value


def _bad_bin(body: object) -> bytes:
    msg = f"{{'bin': ...}} takes a hex string, not {type(body).__name__}"
    raise NotationError(msg)


def _map_from_notation(body: Any) -> dict[Any, Any]:
    if not isinstance(body, list):
        msg = "{'map': ...} takes an array of [key, value] pairs"
        raise NotationError(msg)
    out: dict[Any, Any] = {}
    for pair in body:
        if not isinstance(pair, list) or len(pair) != 2:
            msg = f"map entry {pair!r:.60} is not a [key, value] pair"
            raise NotationError(msg)
        key = from_notation(pair[0])
        try:
            if key in out:
                msg = f"map key {pair[0]!r:.60} repeats"
                raise NotationError(msg)
            out[key] = from_notation(pair[1])
        except TypeError as exc:
            msg = f"map key {pair[0]!r:.60} is not hashable in Python"
            raise NotationError(msg) from exc
    return out


def _float_bits(value: float) -> bytes:
    if math.isnan(value):
        return b"nan"
    return _F64.pack(value)


def difference(expected: Any, actual: Any, path: str = "$") -> str | None:
    """Return where and how two message values differ in the typed model, or None.

    Types are exact (bool is not int, float32 is not float64, bin is not str), map order
    matters, NaN equals NaN and -0.0 differs from 0.0, frames compare by content.
    """
    te, ta = _kind(expected), _kind(actual)
    if te != ta:
        return f"{path}: expected {te}, got {ta}"
    if te in ("float32", "float64"):
        if _float_bits(expected) != _float_bits(actual):
            return f"{path}: expected {te} {expected!r}, got {actual!r}"
        return None
    if te == "bin":
        if bytes(expected) != bytes(actual):
            return f"{path}: bin differs"
        return None
    if te == "array":
        if len(expected) != len(actual):
            return f"{path}: expected {len(expected)} elements, got {len(actual)}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            found = difference(e, a, f"{path}[{i}]")
            if found:
                return found
        return None
    if te == "map":
        ek, ak = list(expected), list(actual)
        if len(ek) != len(ak):
            return f"{path}: expected {len(ek)} entries, got {len(ak)}"
        for i, (k1, k2) in enumerate(zip(ek, ak, strict=True)):
            found = difference(k1, k2, f"{path}.<key {i}>")
            if found:
                return found
            found = difference(expected[k1], actual[k2], f"{path}[{k1!r}]")
            if found:
                return found
        return None
    if te == "set":
        return difference(expected.items, actual.items, f"{path}.set")
    if te in _TAG_TYPES:
        found = difference(expected.header, actual.header, f"{path}.header")
        if found:
            return found
        if len(expected.frames) != len(actual.frames):
            return (
                f"{path}.frames: expected {len(expected.frames)} frames, got {len(actual.frames)}"
            )
        for i, (e, a) in enumerate(zip(expected.frames, actual.frames, strict=True)):
            if bytes(e) != bytes(a):
                return f"{path}.frames[{i}]: frame differs"
        return None
    if expected != actual:
        return f"{path}: expected {expected!r:.60}, got {actual!r:.60}"
    return None


def same(expected: Any, actual: Any) -> bool:
    """True when two message values are equal in the typed model (see `difference`)."""
    return difference(expected, actual) is None


def value_kind(value: Any) -> str:
    """The spec's name of a message value's type: "map", "array", "str", "bin", "nil", ..."""
    return _kind(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nil"
    kind = type(value)
    if kind is bool:
        return "bool"
    if kind is int:
        return "int"
    if kind is Float32:
        return "float32"
    if kind is float:
        return "float64"
    if kind is str:
        return "str"
    if kind in (bytes, bytearray, memoryview):
        return "bin"
    if kind in (tuple, list):
        return "array"
    if isinstance(value, Mapping):
        return "map"
    if kind is Offloaded:
        return "offloaded"
    if kind is Materialized:
        return "materialized"
    if kind is Pickled:
        return "pickled"
    if kind is SetValue:
        return "set"
    if kind is EnumValue:
        return "enum"
    return f"python:{kind.__name__}"
