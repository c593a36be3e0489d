"""What a plotly chart in the page draws, read off its SVG as a user reads it."""

from __future__ import annotations

from typing import Any

# Per bar trace of the first subplot (in the order plotly draws them: the figure's), the
# screen box of each bar; and the centres of the labelled ticks of that subplot's axes.
_BARS = """plot => {
    const subplot = plot.querySelector('.subplot.xy');
    const centre = element => {
        const box = element.getBoundingClientRect();
        return [box.x + box.width / 2, box.y + box.height / 2];
    };
    const ticks = axis => [...subplot.querySelectorAll(`.${axis}axislayer-above .${axis}tick text`)]
        .map(text => [text.getAttribute('data-unformatted'), ...centre(text)]);
    const names = plot.data.filter(trace => trace.type === 'bar').map(trace => trace.name);
    const bars = [...subplot.querySelectorAll('g.trace.bars')].map((trace, i) =>
        [...trace.querySelectorAll('g.point path')].map(bar => {
            const box = bar.getBoundingClientRect();
            return [names[i], box.x + box.width / 2, box.height];
        }));
    return {x: ticks('x'), y: ticks('y'), bars: bars.flat()};
}"""


def drawn_bars(plot: Any) -> dict[tuple[str, str], float]:
    """The bars of the first subplot of the plotly chart ``plot`` (a Playwright locator of
    its ``.js-plotly-plot``): (label of the x tick under the bar, its trace's name) -> its
    height in y axis units, measured in pixels against two labelled y ticks."""
    drawn = plot.evaluate(_BARS)
    (low, _, y_low), (high, _, y_high), *_ = sorted(drawn["y"], key=lambda t: float(t[0]))
    per_unit = (y_low - y_high) / (float(high) - float(low))
    assert per_unit > 0, drawn["y"]
    heights: dict[tuple[str, str], float] = {}
    for name, x, height in drawn["bars"]:
        label = min(drawn["x"], key=lambda tick: abs(tick[1] - x))[0]
        heights[label, name] = heights.get((label, name), 0.0) + height / per_unit
    return heights
