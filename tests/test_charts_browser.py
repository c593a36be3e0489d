"""Every chart drawn by plotly.js in a real Chromium, without one console warning.

Issue 11, item 8: ``sender_delivery`` made the browser log "Invalid color specifier: number
0.5" for every bar (bars coloured by a number on a colour axis). The figures' data are
tested in ``test_charts.py``; this draws them, as a notebook would, and listens to the
console. Needs Debian's ``/usr/bin/chromium`` and the ``playwright`` package (never
``playwright install``): without them it skips, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import importlib.util
import os

import pandas as pd
import pytest
from test_charts import _messages, _send_rows

from commstoolkit import charts

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def chromium():
    missing = (
        f"{CHROMIUM} not found"
        if not os.access(CHROMIUM, os.X_OK)
        else "the Python package 'playwright' is missing"
        if importlib.util.find_spec("playwright") is None
        else None
    )
    if missing:
        if os.environ.get("CI", "").strip().lower() in ("1", "true", "yes"):
            pytest.fail(f"browser test cannot run under CI: {missing}", pytrace=False)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _figures(senders: pd.DataFrame, members: pd.DataFrame) -> dict:
    send = _messages(_send_rows())
    failed = [{"sender_id": "a", "sender_address": "A", "channel": "SMS", "status": "FAILED"}]
    return {
        "inventory": charts.inventory(senders),
        "pool_composition": charts.pool_composition(members),
        "pool_overlap": charts.pool_overlap(members),
        "send_outcomes": charts.send_outcomes(send),
        "sender_delivery": charts.sender_delivery(send),
        "sender_delivery, all failed": charts.sender_delivery(_messages(failed * 3)),
        "fallback": charts.fallback(send),
        "delivery_latency": charts.delivery_latency(send),
        "send_timeline": charts.send_timeline(send),
        "send_timeline, one message": charts.send_timeline(_messages(failed)),
    }


def test_every_chart_draws_in_chromium_without_a_console_warning(chromium, client, tmp_path):
    import commstoolkit as ct

    figures = _figures(ct.load_senders(client), ct.load_pool_members(client))
    for n, (name, fig) in enumerate(figures.items()):
        path = tmp_path / f"chart_{n}.html"
        fig.write_html(path, include_plotlyjs="directory")  # plotly.min.js copied once
        page = chromium.new_page()
        said: list[str] = []
        page.on("console", lambda m, said=said: said.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e, said=said: said.append(f"page error: {e}"))
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_selector(".js-plotly-plot .main-svg")
        marks = page.evaluate(
            "() => document.querySelectorAll('.bars path, .point, .boxlayer path, .hm image')"
            ".length"
        )
        page.close()
        assert said == [], name  # was 25 x "Invalid color specifier" for sender_delivery
        assert marks > 0, name
