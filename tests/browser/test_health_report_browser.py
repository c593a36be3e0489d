"""Notebook 04's report in a real browser: ``commstoolkit report`` on a sandbox with history;
headless Chromium opens it from disk (every request but ``file://`` aborted) and every
figure draws, with no console error. The screenshot is the README's picture of it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from commstoolkit.apps.reports import count_figures

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "04_pool_health.ipynb"


def _report(folder: Path) -> tuple[Path, nbformat.NotebookNode]:
    html, executed = folder / "04_pool_health.html", folder / "04_pool_health.ipynb"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    parameters = {
        "sandbox_db": str(folder / "sandbox.sqlite3"),
        "seed": "7",
        "traffic_days": "7",
        "daily_messages": "2000",
    }
    args = [a for name, value in parameters.items() for a in ("-p", f"{name}={value}")]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "commstoolkit",
            "report",
            str(NOTEBOOK),
            *args,
            "-o",
            str(html),
            "--executed",
            str(executed),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=folder,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return html, nbformat.read(executed, as_version=4)


def test_the_health_report_draws_every_chart_offline(browser_ready, page, tmp_path, artifacts):
    from playwright.sync_api import expect

    html, executed = _report(tmp_path)
    figures = count_figures(executed)
    assert figures == 5
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:120]}"))
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))

    page.goto(html.as_uri(), wait_until="load")
    expect(page.locator(".js-plotly-plot")).to_have_count(figures, timeout=30_000)
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=figures
    )
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(el => ({
            traces: (el._fullData || []).length,
            title: (el._fullLayout && el._fullLayout.title && el._fullLayout.title.text) || '',
            height: el.getBoundingClientRect().height,
        }))"""
    )
    assert len(drawn) == figures
    for chart in drawn:
        assert chart["traces"] > 0 and chart["height"] > 200, chart
        assert "no data" not in chart["title"], chart
    expect(page.get_by_text("fell from").first).to_be_visible()
    assert problems == []
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requested), requested

    page.screenshot(path=str(artifacts / "health-report-full.png"), full_page=True)
    # The README's picture: the pools' daily chart and the sender league under it.
    top = page.locator(".js-plotly-plot").first.bounding_box()
    width = page.viewport_size["width"]
    clip = {"x": 0, "y": max(top["y"] - 16, 0), "width": width, "height": 1400}
    page.screenshot(path=str(artifacts / "health-report.png"), full_page=True, clip=clip)
