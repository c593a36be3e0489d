"""Synthetic traffic frames for the analysis tests: the messages frame's columns plus
``pool_id``, ``pool_name`` and ``to_country``, drawn from per-sender delivery chances.

Built directly (not through the sandbox) so that a test controls every count it checks;
the sandbox's own history is tested end to end elsewhere."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from commstoolkit.frames import MESSAGE_DTYPES

TRAFFIC_DTYPES = {
    **MESSAGE_DTYPES,
    "pool_id": pd.StringDtype(),
    "pool_name": pd.StringDtype(),
    "to_country": pd.StringDtype(),
}
START = pd.Timestamp("2026-11-01", tz="UTC")


def traffic(
    senders: dict[str, tuple[str, str, float]],
    n: int,
    *,
    days: int = 14,
    seed: int = 0,
    countries: tuple[str, ...] = ("US", "GB", "DE"),
    chance: Callable[[pd.DataFrame], np.ndarray] | None = None,
    read_share: float = 0.5,
    window_days: int | None = None,
) -> pd.DataFrame:
    """``n`` messages over ``days`` days from ``senders`` ({sender id: (pool id, channel,
    delivery chance)}), uniformly over senders, time and ``countries``. ``chance`` may
    replace the per-message delivery chance (given the frame drawn so far). The frame's
    window is its last ``window_days`` days (default: half of it, the rest is the previous
    window)."""
    rng = np.random.default_rng(seed)
    ids = list(senders)
    pick = rng.integers(0, len(ids), n)
    sender = np.array(ids, dtype=object)[pick]
    created = START + pd.to_timedelta(rng.uniform(0, days * 86400, n), unit="s")
    created = created.floor("s")
    frame = pd.DataFrame(
        {
            "message_id": [f"comms_message_{i:026d}" for i in range(n)],
            "sender_id": sender,
            "channel": [senders[s][1] for s in sender],
            "pool_id": [senders[s][0] for s in sender],
            "to_country": np.array(countries, dtype=object)[rng.integers(0, len(countries), n)],
            "created_at": created,
        }
    )
    p = np.array([senders[s][2] for s in sender]) if chance is None else chance(frame)
    ok = rng.uniform(size=n) < p
    read = ok & (rng.uniform(size=n) < read_share) & frame["channel"].isin(["RCS", "WHATSAPP"])
    failed = ~ok & (rng.uniform(size=n) < 0.3)
    status = np.where(
        read, "READ", np.where(ok, "DELIVERED", np.where(failed, "FAILED", "UNDELIVERED"))
    )
    latency = rng.gamma(2.0, 3.0, n).round()
    frame["status"] = status
    frame["operation_id"] = "comms_operation_" + "0" * 26
    frame["to"] = [f"+1555{i:07d}" for i in range(n)]
    frame["to_channel"] = "PHONE"
    frame["sender_address"] = [f"+1800{ids.index(s):07d}" for s in sender]
    frame["fallback"] = pd.NA
    frame["n_attempts"] = pd.NA
    frame["error_code"] = np.where(ok, None, 30003)
    frame["updated_at"] = frame["created_at"] + pd.to_timedelta(latency, unit="s")
    frame["latency_s"] = latency
    frame["seen_delivered_s"] = np.nan
    frame["pool_name"] = frame["pool_id"].str.replace("pool_", "Pool ")
    frame = frame[list(TRAFFIC_DTYPES)].astype(TRAFFIC_DTYPES)
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    window = window_days if window_days is not None else days // 2
    end = START + pd.Timedelta(days=days)
    frame.attrs["window"] = (end - pd.Timedelta(days=window), end)
    return frame
