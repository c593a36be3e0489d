"""Notebook 04's report in a real browser: ``commstoolkit report`` on a sandbox with history;
headless Chromium opens it from disk (every request but ``file://`` aborted) and every
figure draws, with no console error. The screenshot is the README's picture of it."""

from __future__ import annotations

import pytest

from commstoolkit.apps.reports import count_figures

from ._reports import REPO, run_report, watch

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

NOTEBOOK = REPO / "notebooks" / "04_pool_health.ipynb"


def test_the_health_report_draws_every_chart_offline(browser_ready, page, tmp_path, artifacts):
    from playwright.sync_api import expect

    html, executed = run_report(
        tmp_path,
        NOTEBOOK,
        {
            "sandbox_db": str(tmp_path / "sandbox.sqlite3"),
            "seed": "7",
            "traffic_days": "7",
            "daily_messages": "2000",
        },
    )
    figures = count_figures(executed)
    assert figures == 5
    problems, requested = watch(page)

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
