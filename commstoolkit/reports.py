"""The reports' old path: they live in ``commstoolkit.apps.reports``."""

from .apps.reports import (
    PLOTLY_MIMETYPE,
    WIDGET_MIMETYPE,
    Report,
    count_figures,
    notebook_html,
    write_report,
)

__all__ = [
    "PLOTLY_MIMETYPE",
    "WIDGET_MIMETYPE",
    "Report",
    "count_figures",
    "notebook_html",
    "write_report",
]
