"""The case reports as PNG charts (matplotlib's Agg canvas, no pyplot state,
so the staff pages may draw from several threads at once)."""

from __future__ import annotations

import io
from typing import Sequence

from handoff.reports import CHARTS, NONE, CaseReport, Count, period_text

CHART_TITLES = {
    "by_service": "Cases by service",
    "by_centre": "Cases by centre",
    "by_outcome": "Cases by outcome",
    "by_reason": "Cases by reason for the handoff",
}


def _chart(title: str, counts: Sequence[Count], period: str) -> bytes:
    # A Figure with its own Agg canvas, not pyplot: no global state, so the
    # staff pages may draw charts from several threads at once.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    height = max(2.8, 1.2 + 0.38 * len(counts))
    figure = Figure(figsize=(8.5, height))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if not counts or not any(count.cases for count in counts):
        axes.text(0.5, 0.5, "No cases in this period", ha="center", va="center", fontsize=12)
        axes.set_axis_off()
    else:
        shown = counts[::-1]  # barh draws from the bottom: the first row goes on top
        values = [count.cases for count in shown]
        # "Not known" buckets (no service, no outcome yet) in grey, apart from the rest.
        colours = ["#9a9a9a" if count.id == NONE else "#1f5f8b" for count in shown]
        bars = axes.barh([count.name for count in shown], values, color=colours)
        axes.bar_label(bars, padding=3, fontsize=9)
        axes.set_xlabel("cases")
        axes.set_xlim(0, max(values) * 1.15 + 1)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.tick_params(axis="y", labelsize=9)
    axes.set_title(f"{title}\n{period}", fontsize=11)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=100)
    return out.getvalue()


def chart(report: CaseReport, name: str) -> bytes:
    """The PNG of one of CHARTS: horizontal bars with the readable names, the
    count beside each bar and the period in the title. KeyError for another name."""
    return _chart(CHART_TITLES[name], getattr(report, name), period_text(report))


def charts(report: CaseReport) -> dict[str, bytes]:
    """{chart name: PNG bytes} for each of CHARTS."""
    return {name: chart(report, name) for name in CHARTS}
