"""The demo's old path: it lives in ``commstoolkit.apps.demo``."""

from .apps.demo import (
    DEMO_NOTEBOOKS,
    MARKER_FILE,
    SANDBOX_FILE,
    DemoResult,
    check_out_folder,
    demo_notebooks_dir,
    inventory_summary,
    run_demo,
)

__all__ = [
    "DEMO_NOTEBOOKS",
    "MARKER_FILE",
    "SANDBOX_FILE",
    "DemoResult",
    "check_out_folder",
    "demo_notebooks_dir",
    "inventory_summary",
    "run_demo",
]
