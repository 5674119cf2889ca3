"""`chartui serve`: the app served to a browser over loopback (textual-serve)."""

import asyncio
import socket
import subprocess
import sys
import time

import aiohttp
import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def page_and_app(port: int) -> tuple[int, str, bytes]:
    """The index page, then what the app draws over the websocket a browser tab opens."""
    async with aiohttp.ClientSession() as session:
        for _ in range(300):
            try:
                async with session.get(f"http://127.0.0.1:{port}/") as response:
                    status, page = response.status, await response.text()
                    break
            except aiohttp.ClientConnectorError:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("the server never answered")
        drawn = b""
        async with session.ws_connect(f"http://127.0.0.1:{port}/ws?width=100&height=30") as ws:
            began = time.monotonic()
            while time.monotonic() - began < 60 and b"Loss" not in drawn:
                try:
                    message = await asyncio.wait_for(ws.receive(), 5)
                except asyncio.TimeoutError:
                    continue
                if message.type == aiohttp.WSMsgType.BINARY:
                    drawn += message.data
                elif message.type == aiohttp.WSMsgType.TEXT:
                    drawn += message.data.encode()
                else:
                    break
    return status, page, drawn


def test_serve_answers_on_loopback_and_runs_the_app(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "chartui", "serve", "--port", str(port),
                               "--checkpoint-dir", str(tmp_path)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        status, page, drawn = asyncio.run(page_and_app(port))
        listening = [line for line in open("/proc/net/tcp").read().splitlines()[1:]
                     if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A"]
    finally:
        server.terminate()
        _, err = server.communicate(timeout=20)
    assert status == 200 and "chartui" in page
    assert b"Loss" in drawn  # the app itself started for this tab and drew its chart
    assert listening and all(line.split()[1].startswith("0100007F:") for line in listening)
    assert server.returncode == 0 and "Traceback" not in err.decode()
    assert "serving on http://127.0.0.1:" in err.decode()


def test_serve_refuses_a_bad_or_busy_port_in_one_line():
    bad = subprocess.run([sys.executable, "-m", "chartui", "serve", "--port", "70000"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "65535" in bad.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = subprocess.run([sys.executable, "-m", "chartui", "serve", "--port", str(port)],
                              capture_output=True, text=True, timeout=60)
    assert busy.returncode == 1 and busy.stderr.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in busy.stderr
