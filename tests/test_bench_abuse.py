"""The "abuse" benchmark scenario runs end to end, scaled down, against a real server with
the shipped limits, reports what it promises, and the storage stays within its budget.

No timing is asserted here: the figures belong in docs/security.md, measured with the
full scenario (``python -m bench scenario abuse``).
"""

from .test_bench import PERCENTILES, _bench

#: What the abusers may be answered, and nothing else (no 500, no dropped connection).
SNAPSHOT_ANSWERS = {"taken", "snapshot_too_soon", "too_many_snapshots", "snapshot_budget"}
HTTP_ANSWERS = {"200", "429", "503"}


def test_abuse_scenario_reports_both_phases_and_stays_within_the_storage_budget() -> None:
    """``--scale 0.1``: a few seconds of calm then abuse; one run line and a summary."""
    lines = _bench("scenario", "abuse", "--runs", "1", "--scale", "0.1", timeout=120)
    assert len(lines) == 2
    run, summary = lines
    assert run["scenario"] == "abuse" and run["limits"] == "shipped defaults"
    for phase in ("calm", "abuse"):
        polite = run[phase]
        assert set(polite["ack_ms"]) == PERCENTILES
        # the polite client is never refused, and hears back about every op it sent
        assert polite["ack_ms"]["n"] == polite["ops_sent"] > 0
        assert polite["unacked"] == 0 and polite["rejects"] == {}
        assert polite["window"].keys() >= {"server_cpu_s", "workers_cpu_s", "others_cores"}
    abusers = run["abusers"]
    assert abusers["snapshots"]["taken"] >= 1
    assert set(abusers["snapshots"]) <= SNAPSHOT_ANSWERS
    for kind in ("export", "qr"):
        assert set(abusers[kind]["status"]) <= HTTP_ANSWERS, abusers[kind]["status"]
        assert abusers[kind]["status"]["200"] >= 1
    budget, stored = run["budget"], run["storage_after"]
    assert budget["qr_per_minute"] == 30 and budget["max_snapshots"] == 40  # the defaults
    assert stored["a"]["snapshots"] == abusers["snapshots"]["taken"]
    assert 0 < stored["a"]["snapshot_bytes"] <= budget["snapshot_bytes"]
    assert stored["data_dir_bytes"] <= 2 * budget["workshop_bytes"]
    assert run["storage_within_budget"] is True
    assert run["ratio_p95"] > 0
    assert summary["summary"] is True and summary["runs"] == 1
    assert summary["ratio_p95"] == run["ratio_p95"]
