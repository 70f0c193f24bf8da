"""The benchmark runs end to end on a tiny load, and /metrics answers.

No timing is asserted here: figures belong in docs/benchmarks.md, measured on a quiet
machine. These tests only check that the tools work and report what they promise.
"""

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson

from .support import ROOT, Client, ServerProcess

RUN_KEYS = {
    "target", "clients", "rooms", "active", "rate", "duration", "processes", "connected",
    "ops_sent", "ops_committed", "deliveries", "delivered_per_s", "loss", "duplicates",
    "fanout_ms", "ack_ms", "server_cpu_s", "server_cpu_us_per_delivery", "server_rss_mib",
    "loadgen_cpu_s",
}  # fmt: skip
PERCENTILES = {"p50", "p95", "p99", "max", "n"}


def _bench(*args: str, timeout: float = 180) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT, capture_output=True, timeout=timeout, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    return [orjson.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_load_against_a_real_server_and_both_baselines_prints_one_json_line() -> None:
    """A tiny load with --compare-raw prints one JSON line: Atelier, the raw relay and the
    Node.js y-websocket server (installed on first use), no loss anywhere, and ratios."""
    lines = _bench("run", "--clients", "4", "--active", "2", "--rate", "10", "--duration", "2",
                   "--compare-raw", timeout=600)  # fmt: skip
    assert len(lines) == 1
    line = lines[0]
    for side in ("atelier", "relay", "yjs"):
        run = line[side]
        assert "error" not in run, run.get("error")
        assert run.keys() >= RUN_KEYS
        assert run["target"] == side
        assert run["connected"] == 4
        assert run["ops_committed"] == run["ops_sent"] > 0
        assert run["loss"] == 0 and run["duplicates"] == 0 and run["strays"] == 0
        assert set(run["fanout_ms"]) == PERCENTILES
    # Atelier and y-websocket send each event to all 4 clients; the relay to the 3 others
    assert line["atelier"]["deliveries"] == 4 * line["atelier"]["ops_committed"]
    assert line["yjs"]["deliveries"] == 4 * line["yjs"]["ops_committed"]
    assert line["relay"]["deliveries"] == 3 * line["relay"]["ops_committed"]
    assert set(line["atelier"]["ack_ms"]) == PERCENTILES
    assert line["atelier"]["server_counters"]["atelier_queue_overflows_total"] == 0
    assert set(line["ratios"]) == {"relay", "yjs"}
    for ratios in line["ratios"].values():
        assert set(ratios) == {"cpu_per_delivery", "fanout_p99"}
        assert ratios["fanout_p99"] > 0


def test_the_bare_relay_over_redis_relays_across_processes() -> None:
    """The baseline of a room on several processes: 4 clients over 2 relay processes and
    a Redis of the bench's own; each frame reaches the 3 others, whichever process they
    are on (two of them only through Redis)."""
    [run] = _bench("run", "--clients", "4", "--active", "2", "--rate", "10", "--duration", "2",
                   "--processes", "2", "--target", "relay-redis")  # fmt: skip
    assert run["target"] == "relay-redis" and run["connected"] == 4
    assert run["ops_committed"] == run["ops_sent"] > 0
    assert run["loss"] == 0 and run["duplicates"] == 0 and run["strays"] == 0
    assert run["deliveries"] == 3 * run["ops_committed"]
    assert len(run["server_rss_mib"]) == 2 and run["redis_cpu_s"] is not None  # measured


def test_late_join_scenario_prints_runs_then_medians() -> None:
    """The late-join scenario, scaled down, times full-state joins and prints a summary."""
    lines = _bench("scenario", "latejoin", "--runs", "1", "--scale", "0.01")
    assert len(lines) == 2
    run, summary = lines
    assert run["scenario"] == "latejoin" and run["atelier"]["notes_in_state"] == run["notes"]
    assert run["atelier"]["join_ms"]["n"] == run["joins"] == run["relay"]["join_ms"]["n"]
    assert summary["summary"] is True and summary["atelier.join_ms.p95"] is not None


def test_big_board_scenario_runs_an_empty_and_a_full_board_with_the_facilitator() -> None:
    """board5000, scaled down: the same load on the senders' notes alone and on the big
    board, a facilitator among the clients (its vigilance frames are no errors), no loss,
    and the ratio of CPU per op."""
    run, summary = _bench("scenario", "board5000", "--runs", "1", "--scale", "0.02")
    for side in ("empty", "full"):
        load = run[side]
        assert load["facilitator"] is True and load["connected"] == load["clients"]
        assert load["ops_committed"] == load["ops_sent"] > 0
        assert load["loss"] == 0 and load["errors"] == 0 and load["rejects"] == 0
        assert load["server_cpu_us_per_op"] > 0
    assert (run["empty"]["notes"], run["full"]["notes"]) == (run["full"]["active"], 100)
    assert summary["ratio_cpu_per_op"] == run["ratio_cpu_per_op"] > 0


def test_import_scenario_lands_every_finding_of_the_csv() -> None:
    """import2000, scaled down: every row becomes a finding, the facilitator's socket sees
    the last one, and the times are reported."""
    run, summary = _bench("scenario", "import2000", "--runs", "1", "--scale", "0.05")
    assert (run["added"], run["refused"]) == (run["rows"], 0) == (100, 0)
    assert 0 < run["answered_s"] <= run["landed_s"]
    assert summary["landed_s"] == run["landed_s"]


async def test_metrics_lists_the_expected_metrics(server: ServerProcess) -> None:
    """/metrics speaks the Prometheus text format and counts sockets, rooms and ops."""
    workshop = server.create_workshop()
    client = Client(server.ws_base, workshop["id"], workshop["secrets"]["participant"])
    await client.connect()
    try:
        ack = await client.op({"kind": "note.add", "id": "n1", "text": "Constat"})
        assert ack["type"] == "ack"
        response = httpx.get(f"{server.base}/metrics", timeout=5)
    finally:
        await client.close()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples["atelier_connections"] == 1
    assert samples["atelier_rooms"] == 1
    assert samples["atelier_ops_committed_total"] == 1
    assert samples["atelier_fanout_seconds_count"] == 1
    assert samples["atelier_queue_overflows_total"] == 0
    for kind in ("gap", "reload", "catchup", "full"):
        assert f'atelier_resyncs_total{{kind="{kind}"}}' in samples


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples


def test_relay_module_runs_as_a_script(tmp_path: Path) -> None:
    """The raw relay starts as its own process and stops on SIGTERM."""
    from bench.procs import start_relay

    relay = start_relay(tmp_path)
    try:
        assert relay.popen.poll() is None
        assert relay.usage().rss > 0
    finally:
        relay.stop()
    assert relay.popen.returncode == 0


def test_commits_reports_cpu_and_transactions_per_rate() -> None:
    """``bench commits`` commits at each rate and says how many transactions carried the ops."""
    lines = _bench("commits", "--seconds", "0.5", "--rates", "20", "1000")
    assert [line["rate"] for line in lines] == [20, 1000]
    for line in lines:
        assert 0 < line["transactions"] <= line["ops"] == int(line["rate"] * 0.5)
        assert line["cpu_us_per_op"] > 0 and set(line["commit_ms"]) == PERCENTILES
