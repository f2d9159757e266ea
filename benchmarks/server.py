"""A feed server and webhook sink in its own process, so the daemon measured does not
share its event loop with the load: serves files from a folder, counts POSTs to /hook.

Usage: python -m benchmarks.server FOLDER   (prints the port, then serves until killed)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from aiohttp import web


async def serve(folder: Path) -> None:
    """Serve FOLDER on 127.0.0.1 at a free port; print the port."""
    received = {"count": 0}
    bodies = {path.name: path.read_bytes() for path in folder.iterdir() if path.is_file()}

    async def feed(request: web.Request) -> web.Response:
        body = bodies.get(request.match_info["name"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/xml")

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        received["count"] += 1
        return web.Response(text="ok")

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(received["count"]))

    app = web.Application()
    app.router.add_get("/feeds/{name}", feed)
    app.router.add_post("/hook", hook)
    app.router.add_get("/count", count)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1])))
