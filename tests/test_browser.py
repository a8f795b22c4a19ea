"""The built spec site in headless chromium: anchors, CSS, search, layout, screenshots."""

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
from conftest import ROOT, BuiltSite

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
    # A page the test waits on must keep drawing frames however busy the machine is: no
    # throttling of timers or of a tab chromium takes for hidden.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--remote-debugging-port=0",
]
TIMEOUT = 30.0
#: The viewport a reader of the spec is assumed to have: a laptop screen.
VIEWPORT = {"width": 1280, "height": 1000}
#: Where screenshots of key pages go: a CI artifact, like the rest of reports/.
SCREENSHOTS = Path(os.environ.get("DASKWIRE_SCREENSHOTS", ROOT / "reports" / "screenshots"))
#: Key pages a reader judges the site by, shot at VIEWPORT: (file name, path, element to show).
KEY_PAGES = [
    ("home", "", None),
    ("errors", "errors/", "#categories"),
    ("vectors-decode-placeholder", "generated/vectors/decode-placeholder/", None),
    ("vectors-decode-placeholder-dump", "generated/vectors/decode-placeholder/", "pre"),
    ("examples", "examples/", "pre"),
    ("implementations", "generated/implementations/", None),
]

#: Problems the layout test knows about, on pages whose text is written elsewhere: page ->
#: (the start of each problem, why it is there). The test fails when one of them is gone, so
#: that the entry goes too.
KNOWN_LAYOUT_PROBLEMS = {
    "performance/": (
        "cut off behind a scroll bar",
        "`make bench` writes spec/bench/dask-latest.md with note lines over 80 columns",
    ),
}

# What a reader would see as broken layout on the open page, measured by the browser:
# - a word cut in two by a line break between two letters or digits (`TruncatedInpu|t`);
#   text may break at spaces and after separators such as "-" and "/", and code blocks
#   never wrap;
# - inline code sticking out of the article;
# - a plain text block (hex dump, diagram, listing) or any block of a page holding a hex dump,
#   or a table, whose content is cut off behind a horizontal scroll bar; a program listing,
#   which Pygments highlights, may scroll;
# - a page wider than the window.
LAYOUT_PROBLEMS_JS = r"""
(() => {
  const article = document.querySelector('article.md-content__inner');
  const problems = [];
  const range = document.createRange();
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent;
    if (node.parentElement.closest('pre, .headerlink') || !/\w\w/.test(text)) continue;
    range.selectNodeContents(node);
    if (range.getClientRects().length < 2) continue;
    let lastTop = null, last = ' ';
    for (let i = 0; i < text.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const rect = [...range.getClientRects()].find(r => r.width > 0);
      if (!rect) { last = text[i]; continue; }
      if (lastTop !== null && rect.top > lastTop + 2 && /\w/.test(last) && /\w/.test(text[i])) {
        const before = text.slice(0, i).match(/\S*$/)[0], after = text.slice(i).match(/^\S*/)[0];
        problems.push(`word broken across lines: ${before}|${after}`);
      }
      lastTop = rect.top;
      last = text[i];
    }
  }
  const right = article.getBoundingClientRect().right;
  for (const code of article.querySelectorAll(':not(pre) > code')) {
    range.selectNodeContents(code);  // the text itself, without the padding of each line's box
    if (Math.max(...[...range.getClientRects()].map(r => r.right)) > right + 1) {
      problems.push(`inline code sticks out of the page: ${code.textContent}`);
    }
  }
  const dumps = [...article.querySelectorAll('pre')].some(
    pre => /^[0-9a-f]{6} {2}[0-9a-f]{2}/m.test(pre.textContent));
  const blocks = [...article.querySelectorAll('pre > code')].filter(
    code => dumps || !code.querySelector('span'));  // a highlighted program may scroll
  for (const box of [...blocks, ...article.querySelectorAll('.md-typeset__table')]) {
    if (box.scrollWidth > box.clientWidth + 1) {
      const line = box.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a));
      problems.push(`cut off behind a scroll bar (${box.scrollWidth}px in ${box.clientWidth}px): `
        + line.trim().slice(0, 100));
    }
  }
  const page = document.scrollingElement;
  if (page.scrollWidth > page.clientWidth + 1) {
    problems.push(`page wider than the window: ${page.scrollWidth}px`);
  }
  return problems;
})()
"""


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
        client.call(
            "Emulation.setDeviceMetricsOverride", **VIEWPORT, deviceScaleFactor=1, mobile=False
        )
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


def _settle(browser: DevTools) -> None:
    """Wait until Material's script has wrapped the page's tables and the layout is drawn."""
    assert browser.wait_for(
        "[...document.querySelectorAll('article table')]"
        ".every(t => t.closest('.md-typeset__table'))"
    ), "Material's script did not wrap the tables of the page"
    browser.call(
        "Runtime.evaluate",
        expression="new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))",
        awaitPromise=True,
    )


def _site_pages(site: Path) -> list[str]:
    """The path of every page of a built site, as a URL path ("" for the home page)."""
    return sorted(
        p.parent.relative_to(site).as_posix().removeprefix(".") + "/"
        for p in site.rglob("index.html")
        if p.parent != site / "search"
    )


def test_layout_holds_on_every_page(browser: DevTools, server: str, built_site: BuiltSite) -> None:
    """At a laptop's width no page breaks a word, hides a dump or table behind a scroll bar."""
    pages = _site_pages(built_site.site)
    assert len(pages) > 40
    problems = {}
    for page in pages:
        _open(browser, f"{server}/{page}")
        _settle(browser)
        found: list[str] = browser.evaluate(LAYOUT_PROBLEMS_JS)
        known, _why = KNOWN_LAYOUT_PROBLEMS.get(page, ("", ""))
        if known:
            if not found:
                found = [f"no longer shows the problem KNOWN_LAYOUT_PROBLEMS names: {known}"]
            found = [problem for problem in found if not problem.startswith(known)]
        if found:
            problems[page] = found[:5] + ([f"... {len(found) - 5} more"] if len(found) > 5 else [])
    assert problems == {}


@pytest.mark.parametrize(("name", "page", "selector"), KEY_PAGES)
def test_screenshot(
    browser: DevTools, server: str, name: str, page: str, selector: str | None
) -> None:
    """Key pages as a reader sees them, kept as PNG files under reports/screenshots/."""
    _open(browser, f"{server}/{page}")
    _settle(browser)
    if selector is not None:
        found = browser.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return false; e.scrollIntoView(); return true; })()"
        )
        assert found, f"{page} has no {selector}"
        time.sleep(0.5)  # the header swaps in the page title over 0.25 s once the page scrolls
    shot = browser.call("Page.captureScreenshot", format="png")
    image = base64.b64decode(shot["data"])
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", image[16:24]) == (VIEWPORT["width"], VIEWPORT["height"])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    (SCREENSHOTS / f"{name}.png").write_bytes(image)
