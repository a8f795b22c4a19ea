"""What the tap says about one connection: its lines, from the reports of its two directions."""

from __future__ import annotations

from daskwire_conformance.common.text import escape
from daskwire_conformance.traffic.detect import Detection
from daskwire_conformance.traffic.handshakes import agreed
from daskwire_conformance.traffic.recording import DIRECTIONS
from daskwire_conformance.traffic.stream import Failure

from .decoder import Report, Seen
from .lines import agreed_line, detection_line, failure_line, message_line, warning_lines

__all__ = ["ConnectionLog"]


class ConnectionLog:
    """Turns one connection's reports into lines: a line per message, the handshake of each
    side, what they agreed and the warnings, and every violation with its category."""

    def __init__(self, connection: int) -> None:
        self.connection = connection
        self._handshakes: dict[str, Seen] = {}
        self._profiles: dict[str, str] = {}
        #: Messages and violations seen, over both directions.
        self.messages = 0
        self.violations = 0

    def lines(self, when: str, direction: str, report: Report) -> list[str]:
        """The lines one report of `direction` gives, at time `when`."""
        n = self.connection
        if isinstance(report, Detection):
            self._profiles[direction] = report.profile
            return [detection_line(when, n, direction, report)]
        if isinstance(report, Failure):
            self.violations += 1
            return [failure_line(when, n, direction, report)]
        out = message_line(when, n, direction, report)
        self.messages += 1
        self.violations += report.category is not None
        if isinstance(report, Seen) and report.handshake is not None:
            self._handshakes[direction] = report
            if len(self._handshakes) == len(DIRECTIONS):
                client, upstream = (self._handshakes[d] for d in DIRECTIONS)
                assert client.handshake is not None
                assert upstream.handshake is not None
                profile = self._profiles.get(DIRECTIONS[0], "")
                options = agreed(profile, client.handshake, upstream.handshake_frames)
                if options is not None:
                    out.append(agreed_line(when, n, options))
                out.extend(
                    escape(line)
                    for line in warning_lines(when, n, client.handshake, upstream.handshake)
                )
        return out
