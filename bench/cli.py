"""The ``python -m bench`` command: ``run`` one load, a named ``scenario``, or ``commits``."""

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from .commits import RATES, run_commits
from .load import BASELINES, REDIS_RELAY, LoadSpec, compare, run_load
from .scenarios import SCENARIOS, run_scenario

__all__ = ["main"]


def _print(line: dict[str, Any]) -> None:
    sys.stdout.write(orjson.dumps(line).decode() + "\n")
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="one load, one JSON line")
    defaults = LoadSpec()
    run.add_argument("--clients", type=int, default=defaults.clients, help="clients per room")
    run.add_argument("--rooms", type=int, default=defaults.rooms)
    run.add_argument("--active", type=int, default=defaults.active, help="senders per room")
    run.add_argument("--rate", type=float, default=defaults.rate, help="ops/s, all rooms")
    run.add_argument("--duration", type=float, default=defaults.duration, help="seconds")
    run.add_argument(
        "--processes",
        type=int,
        default=defaults.processes,
        help="server processes (more than one shares a Redis of the bench's own)",
    )
    run.add_argument("--workers", type=int, default=defaults.workers,
                     help="load-generator processes")  # fmt: skip
    run.add_argument("--notes", type=int, default=defaults.notes,
                     help="notes on the board before the run")  # fmt: skip
    run.add_argument("--facilitator", action="store_true",
                     help="the last passive client joins as the facilitator")  # fmt: skip
    run.add_argument("--target", choices=["atelier", *BASELINES, REDIS_RELAY], default="atelier")
    run.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample the servers with py-spy into DIR (such runs are not the benchmark's figures)",
    )
    run.add_argument(
        "--compare-raw",
        action="store_true",
        help="run the same load against the raw relay and the Node.js y-websocket server "
        "too, and print the ratios",
    )
    commits = commands.add_parser("commits", help="the SQLite group commit alone, by rate")
    commits.add_argument("--seconds", type=float, default=5.0, help="seconds per rate")
    commits.add_argument("--rates", type=float, nargs="+", default=list(RATES))
    scenario = commands.add_parser("scenario", help="one of the issue's scenarios")
    scenario.add_argument("name", choices=sorted(SCENARIOS))
    scenario.add_argument("--runs", type=int, default=3, help="runs (a median line follows)")
    scenario.add_argument("--no-raw", action="store_true", help="skip the baselines")
    scenario.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply clients, rate and duration (e.g. 0.1 for a dry run)",
    )
    return parser  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and print one JSON line per run."""
    args = _parser().parse_args(argv)
    if args.command == "commits":
        for line in run_commits(tuple(args.rates), args.seconds):
            _print({"commits": True, **line})
        return
    if args.command == "run":
        spec = LoadSpec(
            clients=args.clients, rooms=args.rooms, active=args.active, rate=args.rate,
            duration=args.duration, processes=args.processes, workers=args.workers,
            notes=args.notes, facilitator=args.facilitator,
        )  # fmt: skip
        if args.compare_raw:
            _print(compare(spec, args.profile))
        else:
            _print(run_load(spec, args.target, args.profile))
    else:
        for line in run_scenario(args.name, args.runs, raw=not args.no_raw, scale=args.scale):
            _print(line)
