"""The worker pool: results and errors come back; a dead worker is replaced."""

from __future__ import annotations

import os
import signal

import pytest

from monitor.parse import ParseError, parse_feed
from monitor.workers import WorkerCrashed, WorkerPool


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def survive_sigterm() -> str:
    os.kill(os.getpid(), signal.SIGTERM)
    return "still here"


async def test_results_and_errors_come_back() -> None:
    pool = WorkerPool(workers=1)
    try:
        await pool.start()
        parsed = await pool.run(
            parse_feed,
            b'{"version": "https://jsonfeed.org/version/1.1", '
            b'"items": [{"id": "1", "title": "Truce"}]}',
            {},
            "https://x/",
        )
        assert [item.title for item in parsed.items] == ["Truce"]
        with pytest.raises(ParseError, match="empty"):
            await pool.run(parse_feed, b"", {}, "https://x/")
    finally:
        await pool.close()


async def test_a_dead_worker_is_replaced() -> None:
    pool = WorkerPool(workers=1)
    try:
        with pytest.raises(WorkerCrashed):
            await pool.run(die)
        assert await pool.run(os.getpid) != os.getpid()
    finally:
        await pool.close()


async def test_workers_leave_stopping_to_the_daemon() -> None:
    pool = WorkerPool(workers=1)
    try:
        assert await pool.run(survive_sigterm) == "still here"
    finally:
        await pool.close()
