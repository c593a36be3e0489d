"""The kernel a notebook runs in: this interpreter's ``ipykernel`` (never another
environment's ``python3`` kernelspec), this checkout of commstoolkit first on its path,
plotly drawing into the notebook's own mimetype and tqdm bars off."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["KERNEL_ENV", "KERNEL_STARTUP", "kernel_environment", "kernel_manager"]

KERNEL_ENV = {
    # Figures as plotly's own mimetype (JupyterLab draws it; reports turn it into HTML),
    # not the "notebook" renderer that pastes plotly.js into every executed notebook.
    "PLOTLY_RENDERER": "plotly_mimetype",
    # Progress bars are noise in a finished notebook: no one watches a headless run.
    "TQDM_DISABLE": "1",
}
# tqdm's notebook bars (widgets) ignore TQDM_DISABLE, and a saved notebook would show them
# stuck at 0%: the kernel switches them off before the first cell.
KERNEL_STARTUP = (
    "import functools as _f, tqdm.notebook as _t; "
    "_t.tqdm.__init__ = _f.partialmethod(_t.tqdm.__init__, disable=True); del _f, _t"
)


def kernel_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: ours, plus ``KERNEL_ENV`` and ``extra``, with this
    checkout of commstoolkit first on ``PYTHONPATH`` (the kernel runs the same code)."""
    env = {**os.environ, **KERNEL_ENV, **(extra or {})}
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding commstoolkit/
    paths = [package_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def kernel_manager(env: Mapping[str, str]) -> Any:
    """A kernel manager that starts ``ipykernel`` with this interpreter, whatever
    ``python3`` kernelspec the user's Jupyter folders hold, in the environment ``env``."""
    from ipykernel.kernelspec import RESOURCES
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec = KernelSpec(
        argv=[
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            # Its warning about unencrypted TCP is about remote kernels; this one is local.
            "--IPKernelApp.log_level=ERROR",
            f"--IPKernelApp.exec_lines={KERNEL_STARTUP}",
        ],
        display_name="Python 3 (ipykernel)",
        language="python",
        resource_dir=RESOURCES,
        metadata={"debugger": True},
    )

    class ThisInterpreter(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            return spec

    class InEnvironment(KernelManager):
        def start_kernel(self, **kw: Any) -> None:
            super().start_kernel(**{"env": dict(env), **kw})

    return InEnvironment(kernel_name="python3", kernel_spec_manager=ThisInterpreter())
