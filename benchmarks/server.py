"""A feed server and webhook sink in its own process, so the daemon measured does not
share its event loop with the load: serves files from a folder, counts POSTs to /hook.

Usage: python -m benchmarks.server FOLDER   (prints the port, then serves until killed)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]


def add_sink(app: web.Application) -> None:
    """POST /hook counts webhook deliveries; GET /count says how many arrived."""
    received = {"count": 0}

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        received["count"] += 1
        return web.Response(text="ok")

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(received["count"]))

    app.router.add_post("/hook", hook)
    app.router.add_get("/count", count)


async def serve_forever(app: web.Application, *announce: object) -> None:
    """Serve ``app`` on 127.0.0.1 at a free port; print the port (and ``announce``)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, backlog=4096).start()
    print(runner.addresses[0][1], *announce, flush=True)
    await asyncio.Event().wait()


@dataclass(frozen=True)
class Served:
    """A server running in its own process: its base URL, its pid, what it announced."""

    base: str
    pid: int
    announced: list[str]


@contextmanager
def served(module: str, *args: str) -> Iterator[Served]:
    """Run ``python -m module args`` (a server that prints its port first) until the
    block ends."""
    with subprocess.Popen(
        [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    ) as server:
        try:
            assert server.stdout is not None
            port, *announced = server.stdout.readline().split()
            yield Served(f"http://127.0.0.1:{int(port)}", server.pid, announced)
        finally:
            server.terminate()


async def serve(folder: Path) -> None:
    """Serve FOLDER on 127.0.0.1 at a free port; print the port."""
    bodies = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}

    async def feed(request: web.Request) -> web.Response:
        body = bodies.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/feeds/{name}", feed)
    add_sink(app)
    await serve_forever(app)


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
