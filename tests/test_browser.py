"""The built spec site in a real browser (Debian's headless chromium): anchors, CSS, search."""

from __future__ import annotations

import base64
import functools
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import BuiltSite

pytestmark = pytest.mark.browser

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
]
TIMEOUT = 30.0


class DevTools:
    """A minimal Chrome DevTools Protocol client over one WebSocket (RFC 6455, text frames).

    `chromium --dump-dom --virtual-time-budget` returns before Material's search worker has
    answered, so the test drives the page and polls the DOM instead.
    """

    def __init__(self, url: str) -> None:
        host_port, _, path = url.removeprefix("ws://").partition("/")
        host, _, port = host_port.rpartition(":")
        self._sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self._sock.sendall(
            f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while not head.endswith(b"\r\n\r\n"):
            head += self._exactly(1)
        assert b" 101 " in head.split(b"\r\n", 1)[0], head
        self._last_id = 0
        #: Every event received so far, in order.
        self.events: list[dict[str, Any]] = []

    def _exactly(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise ConnectionError("the browser closed the DevTools connection")
            data += chunk
        return data

    def _send(self, message: dict[str, Any]) -> None:
        payload = json.dumps(message).encode()
        size = len(payload)
        if size < 126:
            head = struct.pack("!BB", 0x81, 0x80 | size)
        elif size < 2**16:
            head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
        else:
            head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._sock.sendall(head + mask + masked)

    def _receive(self) -> dict[str, Any]:
        message = b""
        while True:
            first, second = self._exactly(2)
            size = second & 0x7F
            if size == 126:
                (size,) = struct.unpack("!H", self._exactly(2))
            elif size == 127:
                (size,) = struct.unpack("!Q", self._exactly(8))
            payload = self._exactly(size)
            opcode = first & 0x0F
            if opcode == 0x8:
                raise ConnectionError("the browser closed the DevTools connection")
            if opcode in (0x9, 0xA):  # ping, pong
                continue
            message += payload
            if first & 0x80:
                result: dict[str, Any] = json.loads(message)
                return result

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result; events that arrive meanwhile are kept."""
        self._last_id += 1
        self._send({"id": self._last_id, "method": method, "params": params})
        while True:
            reply = self._receive()
            if reply.get("id") == self._last_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply["result"]
                return result
            self.events.append(reply)

    def wait_event(self, method: str, since: int) -> dict[str, Any]:
        """The first event named `method` at or after index `since` of `events`."""
        while True:
            for event in self.events[since:]:
                if event.get("method") == method:
                    return event
            since = len(self.events)
            self.events.append(self._receive())

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        assert "exceptionDetails" not in reply, reply
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = TIMEOUT) -> Any:
        """Poll until a JavaScript expression is truthy; returns its value (falsy on timeout)."""
        deadline = time.monotonic() + timeout
        value = self.evaluate(expression)
        while not value and time.monotonic() < deadline:
            time.sleep(0.1)
            value = self.evaluate(expression)
        return value

    def close(self) -> None:
        self._sock.close()


@pytest.fixture(scope="module")
def server(built_site: BuiltSite) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1, on a free port; yields the base URL."""
    assert built_site.returncode == 0, built_site.output

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(built_site.site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """A fresh headless chromium with its own profile, and a DevTools client on its tab."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: run `apt-get install chromium` (CI does)")
    profile = tmp_path / "profile"
    process = subprocess.Popen(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = None
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + TIMEOUT
        while not port_file.is_file() or not port_file.read_text().strip():
            assert process.poll() is None, f"chromium exited with {process.returncode}"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.05)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=TIMEOUT) as r:
            targets = json.load(r)
        page = next(t for t in targets if t["type"] == "page")
        client = DevTools(page["webSocketDebuggerUrl"])
        client.call("Network.enable")
        client.call("Page.enable")
        yield client
    finally:
        if client is not None:
            client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _open(browser: DevTools, url: str) -> None:
    """Navigate and wait for the page's load event."""
    since = len(browser.events)
    reply = browser.call("Page.navigate", url=url)
    assert "errorText" not in reply, reply
    browser.wait_event("Page.loadEventFired", since)


def test_requirement_anchor_is_styled(browser: DevTools, server: str) -> None:
    _open(browser, f"{server}/placeholder/#PH-7")
    anchor = browser.evaluate(
        "(() => { const a = document.getElementById('PH-7');"
        " return a && {tag: a.tagName, cls: a.className, href: a.getAttribute('href'),"
        " weight: getComputedStyle(a).fontWeight}; })()"
    )
    assert anchor == {"tag": "A", "cls": "req", "href": "#PH-7", "weight": "700"}


def test_search_finds_results(browser: DevTools, server: str) -> None:
    """Material's search reads `?q=`, loads search_index.json in its worker, renders results."""
    _open(browser, f"{server}/placeholder/?q=placeholder")
    count = browser.wait_for("document.querySelectorAll('.md-search-result__item').length")
    assert count, browser.evaluate("document.querySelector('.md-search-result')?.outerHTML")
    meta = browser.evaluate("document.querySelector('.md-search-result__meta').textContent")
    assert "matching" in meta
    first = browser.evaluate("document.querySelector('.md-search-result__link').href")
    assert first.startswith(server)


def test_pages_fetch_only_from_the_site(browser: DevTools, server: str) -> None:
    for page in ("", "placeholder/", "generated/requirements/"):
        _open(browser, f"{server}/{page}")
    urls = sorted(
        {
            event["params"]["request"]["url"]
            for event in browser.events
            if event.get("method") == "Network.requestWillBeSent"
        }
    )
    assert urls, "no request was recorded"
    foreign = [u for u in urls if not u.startswith((f"{server}/", "data:", "blob:"))]
    assert foreign == []


def test_screenshot(browser: DevTools, server: str, tmp_path: Path) -> None:
    _open(browser, f"{server}/placeholder/")
    shot = browser.call("Page.captureScreenshot", format="png")
    image = base64.b64decode(shot["data"])
    (tmp_path / "placeholder.png").write_bytes(image)
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(image) > 10_000
