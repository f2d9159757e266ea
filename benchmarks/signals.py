"""Story signals on the farm: what a spread watchlist costs the cold pass.

``python -m benchmarks.signals [--feeds 1000] [--items 50] [--rounds 2]`` serves the farm
with wire stories (every 5th entry is one story a group of 10 feeds carries, so 18% of
the items join a story of another feed and each join is counted) and runs the cold pass
on a fresh SQLite file, alternating:

- ``base``: the farm's one keyword watchlist;
- ``+ spread``: the same and a spread watchlist without terms (every story counts;
  ``within`` long enough that the farm's dates fall inside it, so stories do spread);
- ``+ like``: the same and a ``like:`` watchlist of 100 samples (100 wire stories'
  titles and leads), scored against every item.

It prints each run's wall and CPU time, the cold pass's ratio to the base run of the
same round, the seconds spent delivering, and the messages the webhook sink received
(the spread and like alerts among them). Runs of one round follow each other, so their
ratio is the one to quote; a round's ratios move by ±15% on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from benchmarks.farm import WIRE_EVERY, WIRE_GROUP, Farm, Pass, TreeMeter, passes
from benchmarks.server import served

SPREAD = "  - name: spreading\n    spread: {sources: 3, within: 60d}\n"
SAMPLES = 100


def like_watchlist(farm: Farm) -> str:
    """A like: watchlist of 100 samples: the title and lead of 100 wire stories."""
    samples = []
    for number in range(SAMPLES):
        title, lead, _, _ = farm._entry(number * WIRE_GROUP, WIRE_EVERY * (number % 10))
        samples.append(f"      - text: {json.dumps(f'{title}. {lead}')}\n")
    return "  - name: like-these\n    like:\n" + "".join(samples)


def variants(farm: Farm) -> dict[str, str]:
    """Each variant's watchlists, added to the farm's one."""
    return {"base": "", "+ spread": SPREAD, "+ like": like_watchlist(farm)}


def run(
    feeds: int, items: int, rounds: int, only: list[str] | None = None
) -> list[tuple[int, str, Pass]]:
    """Cold passes of each variant (or those ``only`` names, with the base), ``rounds``
    times in turn, against one farm server."""
    farm = Farm(feeds, items, shared=True)
    args = ["--serve", "--shared", "--feeds", str(feeds), "--items", str(items)]
    results = []
    with served("benchmarks.farm", *args) as server, TreeMeter(skip=server.pid) as meter:
        for round_number in range(rounds):
            for name, watchlists in variants(farm).items():
                if only and name != "base" and name.removeprefix("+ ") not in only:
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    (cold,) = asyncio.run(
                        passes(
                            server.base,
                            farm,
                            Path(tmp),
                            meter,
                            watchlists=watchlists,
                            cold_only=True,
                        )
                    )
                results.append((round_number, name, cold))
    return results


def report(feeds: int, items: int, rounds: int, only: list[str] | None = None) -> None:
    """Run and print the table."""
    results = run(feeds, items, rounds, only)
    wire = feeds // WIRE_GROUP * (items // WIRE_EVERY)
    print(
        f"story signals: farm of {feeds} feeds x {items} entries, {wire} wire stories carried"
        f" by {WIRE_GROUP} feeds each; cold pass on SQLite, {rounds} round(s)"
    )
    print(
        f"{'round':>5} {'variant':<10} {'wall':>8} {'cpu':>8} {'x base':>7} {'deliver':>8}"
        f" {'messages':>9}"
    )
    base = {r: result.wall for r, name, result in results if name == "base"}
    for round_number, name, result in results:
        print(
            f"{round_number + 1:>5} {name:<10} {result.wall:>7.2f}s {result.cpu:>7.1f}s"
            f" {result.wall / base[round_number]:>7.2f} {result.stages.get('deliver', 0):>7.1f}s"
            f" {result.alerts:>9}"
        )


def main() -> None:
    """``python -m benchmarks.signals``."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--feeds", type=int, default=1000)
    options.add_argument("--items", type=int, default=50)
    options.add_argument("--rounds", type=int, default=2)
    options.add_argument("--only", nargs="*", choices=["spread", "like"], help="these variants")
    args = options.parse_args()
    report(args.feeds, args.items, args.rounds, args.only)


if __name__ == "__main__":
    main()
