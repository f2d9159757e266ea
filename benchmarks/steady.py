"""Steady state on a simulated clock: how many feeds one process keeps at a 5-minute
cadence. ``python -m benchmarks.steady [--feeds 5000] [--speeds 20,50,70]``.

The farm serves ``--feeds`` small feeds with ETags; one ``once`` pass primes them, so
every later poll is what most polls of a real deployment are: a conditional request
answered 304. Then, per speed S, the clock runs S times faster than real time and the
daemon's own dispatcher (``Daemon.dispatch``, every simulated second) polls the feeds,
spread over their 5-minute interval, for one whole interval. N feeds at speed S load
the process as N x S feeds would at real speed (the work per poll is the same; only the
feeds table is smaller), so the largest S whose 99th percentile of lateness stays under
10 simulated seconds says how many feeds the box keeps.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.farm import TreeMeter
from benchmarks.server import served
from monitor.config import parse_settings
from monitor.daemon import Daemon
from monitor.runtime import Runtime

INTERVAL = timedelta(minutes=5)
LATE = 10.0  # seconds: the lateness 99% of the polls must stay under


class SimulatedClock:
    """Simulated time that runs ``speed`` times faster than real time from ``start``."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.speed = 1.0
        self._real = time.perf_counter()

    def set(self, start: datetime, speed: float) -> None:
        """Jump to ``start`` and run at ``speed`` from now on."""
        self.start, self.speed, self._real = start, speed, time.perf_counter()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.perf_counter() - self._real) * self.speed)


@dataclass
class Run:
    """One simulated interval at one speed."""

    speed: float
    polls: int
    p99_under_limit: bool
    share_late: float
    mean_lateness: float
    wall: float
    cpu: float
    peak_rss: int


def lateness_summary(daemon: Daemon) -> tuple[int, float, float]:
    """Polls dispatched, the share later than LATE, and the mean lateness (seconds)."""
    histogram = daemon.metrics.dispatch_lag
    count = total = within = 0.0
    for metric in histogram.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                count = sample.value
            elif sample.name.endswith("_sum"):
                total = sample.value
            elif sample.name.endswith("_bucket") and float(sample.labels["le"]) == LATE:
                within = sample.value
    if not count:
        return 0, 0.0, 0.0
    return int(count), 1 - within / count, total / count


async def simulate(
    base: str, feeds: int, speeds: list[float], folder: Path, meter: TreeMeter
) -> list[Run]:
    """Prime the feeds, then run one simulated interval per speed."""
    listed = "\n".join(f"  - url: {base}/feeds/{n}" for n in range(feeds))
    settings = parse_settings(
        f"storage: sqlite:///{folder / 'steady.db'}\n"
        "defaults: {baseline: false, interval: 5m, max_alert_age: off, fulltext: off}\n"
        "http: {allow_private_networks: true, per_host: 1000, concurrency: 500}\n"
        f"feeds:\n{listed}\n",
        "steady.yaml",
        {},
    )
    clock = SimulatedClock(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))
    runs = []
    async with Runtime(settings, clock=clock) as runtime:
        await runtime.poll_all()  # prime: every later poll is a 304
        for speed in speeds:
            # Every feed overdue, then spread over its interval: the steady state.
            clock.set(clock() + 2 * INTERVAL, 1.0)
            await runtime.store.spread_overdue_feeds(clock())
            daemon = Daemon(runtime)
            meter.peak_rss = 0
            cpu, started = meter.cpu(), time.perf_counter()
            clock.set(clock(), speed)
            end = clock() + INTERVAL
            while clock() < end:
                await daemon.dispatch()
                await asyncio.sleep(1 / speed)  # the daemon dispatches every second
            await asyncio.gather(*daemon.in_flight)
            polls, late, mean = lateness_summary(daemon)
            runs.append(
                Run(
                    speed,
                    polls,
                    late < 0.01,
                    late,
                    mean,
                    time.perf_counter() - started,
                    meter.cpu() - cpu,
                    meter.peak_rss,
                )
            )
    return runs


def report(feeds: int, speeds: list[float]) -> None:
    """Serve the farm, simulate, print the table."""
    farm_args = ("--serve", "--feeds", str(feeds), "--items", "1")
    with (
        served("benchmarks.farm", *farm_args) as server,
        TreeMeter(skip=server.pid) as meter,
        tempfile.TemporaryDirectory() as tmp,
    ):
        runs = asyncio.run(simulate(server.base, feeds, speeds, Path(tmp), meter))
    print(f"steady state: {feeds} feeds every 5 minutes (304s), one simulated interval per speed")
    print(
        f"{'speed':>6} {'as feeds':>9} {'polls':>7} {'late>10s':>9} {'mean late':>10}"
        f" {'wall':>7} {'cpu':>7} {'peak rss':>9}  p99 < 10 s"
    )
    for run in runs:
        print(
            f"{run.speed:>6.0f} {feeds * run.speed:>9,.0f} {run.polls:>7} {run.share_late:>9.2%}"
            f" {run.mean_lateness:>9.1f}s {run.wall:>6.1f}s {run.cpu:>6.1f}s"
            f" {run.peak_rss / 2**20:>7.0f}MB  {'yes' if run.p99_under_limit else 'no'}"
        )


def main() -> None:
    """``python -m benchmarks.steady``."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--feeds", type=int, default=5_000)
    options.add_argument("--speeds", default="20,50,70")
    args = options.parse_args()
    report(args.feeds, [float(speed) for speed in args.speeds.split(",")])


if __name__ == "__main__":
    main()
