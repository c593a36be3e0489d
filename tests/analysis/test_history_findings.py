"""End to end on the sandbox's production history: ``load_traffic`` of the last days (the
window counted back from the sandbox's own clock, read from its ``Date`` header) and
``traffic_findings`` name the planted degrading sender and the planted bad country-hour,
over several seeds; a history drawn without those faults raises no drift and no failure
cluster at all (no false alarm)."""

from __future__ import annotations

import pytest

from commstoolkit.analysis import load_traffic, traffic_findings
from commstoolkit.frames import load_pool_members
from commstoolkit.sandbox import Sandbox
from commstoolkit.sandbox.simulation import history
from tests.instant import instant_client


def _findings(seed: int):
    # 5,000 a day: every pool member carries enough to be judged (30 rated each side).
    box = Sandbox(":memory:", seed=seed, senders=300, traffic_days=7, daily_messages=5000)
    try:
        client = instant_client(box)
        traffic = load_traffic(client, "3d", compare=True)
        # The window ends at the sandbox's now (its Date header; its clock runs on while
        # the pages load), not this machine's, which is years later.
        lag = box.clock.now() - traffic.attrs["window"][1]
        assert 0 <= lag.total_seconds() < 30
        found = traffic_findings(traffic, members=load_pool_members(client))
        return found, box.history_faults()
    finally:
        box.close()


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_the_planted_faults_are_found_and_no_other_drift_or_cluster(seed):
    found, planted = _findings(seed)
    drift = {f.subject["sender_id"] for f in found.of("drift")}
    assert drift == {planted["degrading"]["senderId"]}, found.markdown()
    bad = planted["badHour"]
    clusters = [f.subject for f in found.of("failure_cluster")]
    assert {"to_country": bad["country"], "hour": bad["hourUtc"]} in clusters, found.markdown()
    # Nothing else concentrates failures: at most the bad hour's country as a whole.
    assert all(c["to_country"] == bad["country"] for c in clusters), clusters


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_a_history_without_the_faults_raises_no_drift_and_no_cluster(seed, monkeypatch):
    monkeypatch.setattr(history, "_plant_degrading", lambda *args, **kwargs: None)
    monkeypatch.setattr(history, "BLOCKED_SHARE", 0.0)
    found, planted = _findings(seed)
    assert planted["degrading"] is None
    assert found.of("drift") == [] and found.of("failure_cluster") == [], found.markdown()
    assert found.tested > 100  # the comparisons were made
