"""A complete daskwire harness testee: JSON lines on stdin/stdout, the reference as the codec."""

import json
import sys

import daskwire
from daskwire.notation import NotationError, from_notation, to_notation

CAPABILITIES = {
    "directions": ["encode", "decode-forwarding", "decode-consuming", "wire"],
    "codecs": ["lz4", "zlib"],
    "canonical": True,
    "limits": True,
}


def hexes(frames):
    return [bytes(frame).hex() for frame in frames]


def run(request):
    cmd = request["cmd"]
    limits = daskwire.Limits(**request.get("limits", {}))
    if cmd == "start":
        implementation = {"name": "example", "version": "1.0", "language": "python"}
        return {"protocol": 1, "implementation": implementation, "capabilities": CAPABILITIES}
    if cmd == "encode":
        try:
            message = from_notation(request["message"])
        except NotationError as error:  # a value Python cannot hold, e.g. a map as a map key
            raise daskwire.UnencodableValue(str(error)) from error
        return {"frames": hexes(daskwire.encode(message, **request["options"]))}
    if cmd == "decode":
        frames = [bytes.fromhex(f) for f in request["frames"]]
        message = daskwire.decode(frames, mode=request["mode"], limits=limits)
        return {"message": to_notation(message)}
    if cmd == "unpack":
        return {"frames": hexes(daskwire.unpack(bytes.fromhex(request["wire"]), limits=limits))}
    if cmd == "stream":
        reader = daskwire.FrameReader(limits=limits)
        messages = [m for chunk in request["chunks"] for m in reader.feed(bytes.fromhex(chunk))]
        reader.close()  # raises TruncatedInput if the stream ends inside a message
        return {"messages": [hexes(m) for m in messages]}
    return {}  # stop


for line in sys.stdin:
    request = json.loads(line)
    try:
        reply = {"outcome": "ok", "result": run(request)}
    except daskwire.DaskwireError as error:
        reply = {"outcome": "rejected", "category": error.category, "message": str(error)}
    except Exception as error:
        reply = {"outcome": "errored", "message": repr(error)}
    print(json.dumps({"seq": request["seq"], **reply}), flush=True)
    if request["cmd"] == "stop":
        break
