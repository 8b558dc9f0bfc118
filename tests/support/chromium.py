"""Headless Chromium driven over the DevTools protocol: open a page, wait for text, collect the
console's errors and take a screenshot. (`--dump-dom` cannot report console errors.)"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@dataclass
class Page:
    """What the browser showed: the page's text, its console errors and a PNG of it."""

    text: str = ""
    errors: list[str] = field(default_factory=list)
    png: bytes = b""


def _error_of(event: dict[str, Any]) -> str | None:
    """The message of a console error or uncaught exception event, else None."""
    params = event.get("params", {})
    if event.get("method") == "Runtime.exceptionThrown":
        details = params["exceptionDetails"]
        return details.get("exception", {}).get("description") or details.get("text")
    if event.get("method") == "Runtime.consoleAPICalled" and params.get("type") == "error":
        return " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
    if event.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
        return f"{params['entry']['text']} ({params['entry'].get('url', '')})"
    return None


class _Session:
    """One page target of a browser, over its websocket (flattened sessions)."""

    def __init__(self, socket) -> None:
        self.socket, self.ids, self.pending, self.events = socket, itertools.count(1), {}, []
        self.session_id: str | None = None

    async def read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            waiter = self.pending.pop(message.get("id"), None)
            if waiter is not None:
                waiter.set_result(message)
            else:
                self.events.append(message)

    async def send(self, method: str, **params) -> dict[str, Any]:
        message_id = next(self.ids)
        waiter = asyncio.get_running_loop().create_future()
        self.pending[message_id] = waiter
        body = {"id": message_id, "method": method, "params": params}
        if self.session_id:
            body["sessionId"] = self.session_id
        await self.socket.send(json.dumps(body))
        answer = await asyncio.wait_for(waiter, 60)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    async def text(self) -> str:
        result = await self.send("Runtime.evaluate", expression="document.body.innerText",
                                 returnByValue=True)
        return result["result"].get("value") or ""


async def _visit(socket_url: str, url: str, wait_for: list[str], width: int,
                 timeout: float) -> Page:
    async with websockets.connect(socket_url, max_size=None) as socket:
        session = _Session(socket)
        reader = asyncio.create_task(session.read())
        target = (await session.send("Target.createTarget", url="about:blank"))["targetId"]
        session.session_id = (await session.send("Target.attachToTarget", targetId=target,
                                                 flatten=True))["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            await session.send(f"{domain}.enable")
        await session.send("Emulation.setDeviceMetricsOverride", width=width, height=1000,
                           deviceScaleFactor=1, mobile=False)
        await session.send("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = await session.text()
            if all(text in shown for text in wait_for):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.0)  # let the charts finish drawing
        page = Page(text=await session.text())
        shot = await session.send("Page.captureScreenshot", format="png",
                                  captureBeyondViewport=True)
        page.png = base64.b64decode(shot["data"])
        page.errors = [error for event in session.events if (error := _error_of(event))]
        reader.cancel()
        return page


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _browser_socket(port: int, browser: subprocess.Popen, timeout: float = 60) -> str:
    """The browser's DevTools websocket URL, once its debugging port answers."""
    deadline = time.monotonic() + timeout
    while browser.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version") as answer:
                return json.loads(answer.read())["webSocketDebuggerUrl"]
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"Chromium's DevTools port {port} did not answer")


def visit(url: str, profile: Path, wait_for: list[str], width: int = 1400,
          timeout: float = 90) -> Page:
    """Open `url` in headless Chromium, wait (up to `timeout` s) until the page shows every
    text of `wait_for`, and return what it showed."""
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"headless Chromium not found at {CHROMIUM}")
    port = _free_port()
    browser = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--remote-debugging-port={port}", f"--user-data-dir={profile}",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return asyncio.run(_visit(_browser_socket(port, browser), url, wait_for, width, timeout))
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()
