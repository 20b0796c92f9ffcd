"""The hostile-conditions benchmark: each way a hostile client, a failing dependency or an
operator's mistake has been seen to take the sidecar down, make it leak, or make it stop
doing what its operator configured, tried against a real `llm-router serve` process on
loopback emulators.

Every row says what was tried, how many times, what happened, and three counts that must
be zero: leaked (planted prompt text, e-mail addresses and keys found in answers, logs,
audit records or a forbidden upstream), lost (requests without an audit record or a
counted drop, or without an answer) and crashed (the process died, exited non-zero on
SIGTERM, or logged an unhandled exception). See hostile_support.py.

    python benchmarks/hostile.py [--quick] [--only NAME ...]

Prints JSON (one object per row, plus a Markdown table under "table") and exits 1 if any
count is not zero. Linux only (reads /proc). Not part of `make test`; the tests in
tests/reliability/ check each behaviour deterministically.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # the tests' bundle kit

from hostile_control import bad_bundle_reloads, config_reloads, stuck_sink
from hostile_http import bad_http, half_open_admin, slow_bodies
from hostile_support import Row
from hostile_upstream import broken_streams, echoing_upstreams

Scenario = Callable[[bool], Awaitable[Row]]

SCENARIOS: dict[str, Scenario] = {
    "stuck_sink": lambda quick: stuck_sink(200 if quick else 2000),
    "half_open_admin": lambda quick: half_open_admin(800 if quick else 8000, 2.0),
    "slow_bodies": lambda quick: slow_bodies(64 if quick else 256, 50 if quick else 200, 3.0),
    "bad_http": lambda quick: bad_http(5 if quick else 50),
    "config_reloads": lambda quick: config_reloads(8 if quick else 40, 3),
    "bad_bundles": lambda quick: bad_bundle_reloads(1 if quick else 5),
    "broken_streams": lambda quick: broken_streams(12 if quick else 40, 5),
    "echoing_upstreams": lambda quick: echoing_upstreams(5 if quick else 50),
}


def table(rows: list[Row]) -> str:
    lines = [
        "| condition | tried | times | result | leaked / lost / crashed |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.attack} | {r.tried} | {r.times:,} | {r.result} | "
            f"{r.leaked} / {r.lost} / {r.crashed} |"
        )
    return "\n".join(lines)


async def run(names: list[str], quick: bool) -> dict[str, object]:
    rows: list[Row] = []
    seconds: dict[str, float] = {}
    for name in names:
        t0 = time.monotonic()
        rows.append(await SCENARIOS[name](quick))
        seconds[name] = round(time.monotonic() - t0, 1)
    return {
        "benchmark": "hostile",
        "quick": quick,
        "rows": [asdict(r) for r in rows],
        "seconds": seconds,
        "table": table(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions per row")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), default=None)
    args = parser.parse_args()
    report = asyncio.run(run(args.only or list(SCENARIOS), args.quick))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    rows = report["rows"]
    assert isinstance(rows, list)
    clean = all(r["leaked"] == 0 and r["lost"] == 0 and r["crashed"] == 0 for r in rows)
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
