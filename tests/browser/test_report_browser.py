"""An HTML report in a real browser: the charts render from the file alone, offline.

``commstoolkit report`` runs ``03_test_send`` on a fresh sandbox (as the demo does); headless
Chromium opens the report from disk with every request but ``file://`` and 127.0.0.1
aborted, and checks that each plotly figure of the executed notebook was drawn, with no
console error and no request refused. The screenshot is the README's picture.
"""

from __future__ import annotations

import pytest

from commstoolkit.apps.reports import count_figures

from ._reports import REPO, run_report, watch

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

NOTEBOOK = REPO / "notebooks" / "03_test_send.ipynb"


def test_report_charts_render_offline_in_chromium(browser_ready, page, tmp_path, artifacts):
    from playwright.sync_api import expect

    html, executed = run_report(
        tmp_path, NOTEBOOK, {"sandbox_db": str(tmp_path / "sandbox.sqlite3"), "seed": "7"}
    )
    figures = count_figures(executed)
    assert figures == 5

    problems, requested = watch(page)

    page.goto(html.as_uri(), wait_until="load")
    plots = page.locator(".js-plotly-plot")
    expect(plots).to_have_count(figures, timeout=30_000)
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=figures
    )
    drawn = page.evaluate(
        """() => { const MARKS = '.point, .bars path, .boxlayer path, .scatterlayer path';
        return [...document.querySelectorAll('.js-plotly-plot')].map(el => ({
            traces: (el._fullData || []).length,
            title: (el._fullLayout && el._fullLayout.title && el._fullLayout.title.text) || '',
            width: el.getBoundingClientRect().width,
            height: el.getBoundingClientRect().height,
            marks: el.querySelectorAll(MARKS).length,
        })); }"""
    )
    assert len(drawn) == figures
    for chart in drawn:
        assert chart["traces"] > 0 and chart["marks"] > 0, chart
        assert chart["width"] > 400 and chart["height"] > 200, chart
        assert "no data" not in chart["title"], chart
    titles = [chart["title"] for chart in drawn]
    assert any(t.startswith("Delivery rate by sender") for t in titles), titles
    assert page.evaluate("typeof window.Plotly.newPlot") == "function"

    finding = page.get_by_text("consider removing it from")
    expect(finding.first).to_be_visible()
    assert page.get_by_text("Error displaying widget").count() == 0
    assert problems == []
    assert all(url.startswith(("file:", "data:", "blob:")) for url in requested), requested

    page.screenshot(path=str(artifacts / "report-full.png"), full_page=True)
    # The README's picture: the charts section, from its heading into the per-sender chart,
    # where the bad senders stand out.
    top = page.locator("h2", has_text="Charts").bounding_box()
    width = page.viewport_size["width"]
    clip = {"x": 0, "y": max(top["y"] - 16, 0), "width": width, "height": 1320}
    page.screenshot(path=str(artifacts / "report.png"), full_page=True, clip=clip)
