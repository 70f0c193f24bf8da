"""Turn the JSON lines of ``python -m bench scenario ...`` into the Markdown tables of
``docs/benchmarks.md``: ``python -m bench.report results/*.jsonl``.

Only the ``summary`` lines (medians over the runs) are tabled; each target of the
issue is checked against them and marked met or missed, with the distance.
"""

import sys
from pathlib import Path
from typing import Any

import orjson

__all__ = ["TARGETS", "render"]

# scenario -> [(figure, limit, label)]; a figure is a key of the summary line
TARGETS: dict[str, list[tuple[str, float, str]]] = {
    "forum": [("atelier.fanout_ms.p99", 25, "fan-out p99 ≤ 25 ms"),
              ("atelier.ack_ms.p99", 25, "ack p99 ≤ 25 ms"),
              ("atelier.loss_all_runs", 0, "no loss"),
              ("ratios.relay.cpu_per_delivery", 1.5, "CPU/delivery ≤ 1.5x raw")],
    "forum-redis": [("atelier.fanout_ms.p99", 40, "fan-out p99 ≤ 40 ms"),
                    ("atelier.loss_all_runs", 0, "no loss"),
                    ("ratios.relay.cpu_per_delivery", 2.0, "CPU/delivery ≤ 2x raw")],
    "rooms": [("atelier.fanout_ms.p99", 25, "fan-out p99 ≤ 25 ms")],
    "latejoin": [("atelier.join_ms.p95", 150, "full state p95 ≤ 150 ms")],
    "idle": [("atelier.kib_per_connection", 20, "≤ 20 KiB per idle connection")],
    "crowd": [("atelier.fanout_ms.p99", 50, "fan-out p99 ≤ 50 ms")],
    "room200": [("ratios.relay.cpu_per_delivery", 1.0, "CPU/delivery ≤ the raw relay's"),
                ("ratios.yjs.cpu_per_delivery", 0.999, "CPU/delivery < Node y-websocket's"),
                ("atelier.loss_all_runs", 0, "no loss")],
    "room200-redis": [("ratios.relay.cpu_per_delivery", 1.3, "CPU/delivery ≤ 1.3x raw"),
                      ("atelier.fanout_ms.p99", 15, "fan-out p99 ≤ 15 ms"),
                      ("atelier.loss_all_runs", 0, "no loss")],
    "ceiling": [("atelier.fanout_ms.p99", 50, "fan-out p99 ≤ 50 ms"),
                ("atelier.loss_all_runs", 0, "no loss")],
}  # fmt: skip
#: The load scenarios, in the order of the tables.
LOADS = ("room200", "room10", "room200-redis", "ceiling", "forum", "forum-redis", "rooms", "crowd")
SIDES = ("atelier", "relay", "yjs", "relay-redis")
#: The baselines of the ratio table (the relay over Redis only for several processes).
BASES = SIDES[1:]


def _get(line: Any, path: str) -> Any:
    """A figure by dotted path; summaries keep dotted keys flat, so try both."""
    if not isinstance(line, dict):
        return None
    if path in line:
        return line[path]
    head, _, rest = path.partition(".")
    return _get(line.get(head), rest) if rest else None


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)


def _verdicts(name: str, line: dict[str, Any]) -> str:
    out = []
    for path, limit, label in TARGETS.get(name, []):
        value = _get(line, path)
        if value is None:
            out.append(f"{label}: not measured")
        elif value <= limit:
            out.append(f"{label}: **met** ({_fmt(value)})")
        else:
            over = f"{100 * (value / limit - 1):.0f} % over" if limit else "over"
            out.append(f"{label}: **missed** ({_fmt(value)}, {over})")
    return "; ".join(out)


def render(lines: list[dict[str, Any]]) -> str:
    """Markdown tables of the summaries (the last one of each scenario wins)."""
    summaries = {line["scenario"]: line for line in lines if line.get("summary")}
    loads = [n for n in LOADS if n in summaries]
    out = []
    if loads:
        out.append(
            "| scenario | side | fan-out p50 / p95 / p99 / max (ms) | ack p99 (ms) | "
            "deliveries/s | loss (all runs) | server CPU µs/delivery | others_cores |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for name in loads:
            line = summaries[name]
            for side in SIDES:
                s = line.get(side) or {}
                if s.get("server_cpu_us_per_delivery") is None:
                    continue  # not run (no Node.js here, or --no-raw)
                fan = " / ".join(
                    _fmt(s.get(f"fanout_ms.{p}")) for p in ("p50", "p95", "p99", "max")
                )
                out.append(
                    f"| {name} | {side} | {fan} | {_fmt(s.get('ack_ms.p99'))} | "
                    f"{_fmt(s.get('delivered_per_s'))} | {_fmt(s.get('loss_all_runs'))} | "
                    f"{_fmt(s.get('server_cpu_us_per_delivery'))} | "
                    f"{_fmt(s.get('others_cores'))} |"
                )
        out.append("")
        out.append(
            "| scenario | CPU per delivery, Atelier ÷ relay | ÷ Node y-websocket | "
            "÷ relay over Redis | fan-out p99, Atelier ÷ relay | ÷ Node y-websocket | "
            "÷ relay over Redis |"
        )
        out.append("|---|---|---|---|---|---|---|")
        for name in loads:
            line = summaries[name]
            cells = [_fmt(_get(line, f"ratios.{base}.{figure}"))
                     for figure in ("cpu_per_delivery", "fanout_p99")
                     for base in BASES]  # fmt: skip
            out.append(f"| {name} | " + " | ".join(cells) + " |")
        out.append("")
    if "latejoin" in summaries:
        line = summaries["latejoin"]
        out.append("| late join (2,000 notes) | p50 (ms) | p95 (ms) | max (ms) |")
        out.append("|---|---|---|---|")
        out.append(
            f"| Atelier, connect → full state parsed | {_fmt(line['atelier.join_ms.p50'])} | "
            f"{_fmt(line['atelier.join_ms.p95'])} | {_fmt(line['atelier.join_ms.max'])} |"
        )
        out.append(
            f"| raw relay, connect → welcome (floor) | - | "
            f"{_fmt(line.get('relay.join_ms.p95'))} | - |"
        )
        out.append("")
    if "idle" in summaries:
        line = summaries["idle"]
        out.append("| 5,000 idle connections | KiB per connection | time to connect all (s) |")
        out.append("|---|---|---|")
        for side in ("atelier", "relay"):
            out.append(
                f"| {side} | {_fmt(line.get(f'{side}.kib_per_connection'))} | "
                f"{_fmt(line.get(f'{side}.connect_s'))} |"
            )
        out.append("")
    commits = [line for line in lines if line.get("commits")]
    if commits:
        out.append("| commits/s | ops per transaction (fsync) | CPU µs per op | "
                   "commit p50 / p99 (ms) |")  # fmt: skip
        out.append("|---|---|---|---|")
        for line in commits:
            latency = line.get("commit_ms") or {}
            out.append(
                f"| {_fmt(line['rate'])} | {_fmt(line.get('ops_per_transaction'))} | "
                f"{_fmt(line.get('cpu_us_per_op'))} | {_fmt(latency.get('p50'))} / "
                f"{_fmt(latency.get('p99'))} |"
            )
        out.append("")
    out.append("Targets (medians):")
    out.append("")
    for name in summaries:
        if name in TARGETS:
            out.append(f"- **{name}**: {_verdicts(name, summaries[name])}")
    return "\n".join(out) + "\n"  # fmt: skip


def main() -> None:
    """Print the tables for the JSON-lines files named on the command line."""
    lines = []
    for path in sys.argv[1:]:
        for raw in Path(path).read_bytes().splitlines():
            if raw.strip():
                lines.append(orjson.loads(raw))
    sys.stdout.write(render(lines))


if __name__ == "__main__":
    main()
