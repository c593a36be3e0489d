"""Run a notebook headless with parameters, papermill-style, in a real IPython kernel.

::

    from commstoolkit.apps.notebook_runner import run_notebook
    executed = run_notebook("notebooks/03_test_send.ipynb", {"seed": 11, "sandbox_db": db})

Parameters follow papermill's convention: the notebook's defaults sit in the cell tagged
``parameters``; the values given are written into a new cell tagged
``injected-parameters`` right after it (``name = repr(value)``), so the executed notebook
shows what it was run with. The kernel is this interpreter's ``ipykernel`` (never another
environment's ``python3`` kernelspec), with plotly drawing into the notebook's own
mimetype and tqdm bars off. A failing cell raises ``NotebookCellError`` naming the cell,
its source and the error; the partly executed notebook is on the exception.

nbformat and nbclient are imported on first use: ``import commstoolkit`` stays light.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..connect import ENV_API_SECRET, ENV_AUTH_TOKEN
from ..errors import CommsError, InvalidInputError

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "INJECTED_TAG",
    "PARAMETERS_TAG",
    "NotebookCellError",
    "inject_parameters",
    "notebook_parameters",
    "parse_parameter",
    "read_notebook",
    "redact_secrets",
    "run_notebook",
]

PARAMETERS_TAG = "parameters"
INJECTED_TAG = "injected-parameters"
DEFAULT_TIMEOUT = 600.0
REDACTED = "[secret redacted]"
# Names that hold credentials: they come from the environment, never from a parameter
# (a parameter is written into the executed notebook and its report for anyone to read).
SECRET_NAME = re.compile(r"token|secret|password|passwd|api_?key|credential", re.IGNORECASE)
SECRET_ENV = (ENV_AUTH_TOKEN, ENV_API_SECRET)
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


class NotebookCellError(CommsError):
    """A cell of a notebook failed while it ran headless.

    ``number``: the cell's 1-based position in the executed notebook (markdown cells and
    the injected parameters cell count); ``cell_id``, ``source``; ``ename`` / ``evalue``:
    the exception's type and message; ``traceback``: the kernel's traceback as plain text;
    ``notebook``: the executed notebook up to and including the failing cell.
    """

    def __init__(
        self,
        *,
        path: str,
        number: int,
        cell_id: str | None,
        source: str,
        ename: str,
        evalue: str,
        traceback: str,
        notebook: NotebookNode,
    ) -> None:
        self.path = path
        self.number = number
        self.cell_id = cell_id
        self.source = source
        self.ename = ename
        self.evalue = evalue
        self.traceback = traceback
        self.notebook = notebook
        super().__init__(f"{self.headline}\n{_indent(source)}")

    @property
    def headline(self) -> str:
        """One line: which notebook, which cell, which error."""
        ident = f" (id {self.cell_id})" if self.cell_id else ""
        error = f"{self.ename}: {self.evalue}" if self.evalue else self.ename
        return f"{self.path}: cell {self.number}{ident} failed — {error}"


def parse_parameter(text: str) -> tuple[str, Any]:
    """``"key=value"`` -> ``(key, value)``: the value as a Python literal when it reads as
    one (``11``, ``True``, ``None``, ``['SMS', 'RCS']``), else the text itself.

    Raises ``InvalidInputError`` without ``=``, for a key that is not a Python name, and
    for a key that names a secret (credentials come from the environment).
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise InvalidInputError(
            f"parameter {text!r}: expected name=value, with a Python name before '='",
            field="parameter",
            allowed="name=value",
        )
    check_not_secret(key)
    try:
        value: Any = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = raw
    return key, value


def check_not_secret(name: str) -> None:
    """Refuse a parameter whose name says it holds a credential."""
    if SECRET_NAME.search(name):
        raise InvalidInputError(
            f"parameter {name!r} looks like a credential: parameters are written into the "
            f"executed notebook and its report. Set {ENV_AUTH_TOKEN} (or {ENV_API_SECRET}) "
            "in the environment instead",
            field="parameter",
        )


def read_notebook(path: str | os.PathLike[str]) -> NotebookNode:
    """Read a notebook as nbformat v4 (upgrading older minor versions)."""
    import nbformat

    notebook: NotebookNode = nbformat.read(os.fspath(path), as_version=4)  # read() is unannotated
    return notebook


def notebook_parameters(notebook: NotebookNode) -> dict[str, str]:
    """The names the ``parameters`` cell assigns, each with its default's source text."""
    cell = _parameters_cell(notebook)
    if cell is None:
        return {}
    found: dict[str, str] = {}
    for node in ast.parse(cell.source).body:
        targets = (
            node.targets
            if isinstance(node, ast.Assign)
            else [node.target]
            if isinstance(node, ast.AnnAssign) and node.value is not None
            else []
        )
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = ast.get_source_segment(cell.source, node.value) or ""
    return found


def inject_parameters(
    notebook: NotebookNode, parameters: Mapping[str, Any], *, strict: bool = True
) -> NotebookNode:
    """A copy of ``notebook`` with ``parameters`` in a new ``injected-parameters`` cell.

    The cell goes right after the ``parameters`` cell (at the top when there is none) and
    replaces one injected by an earlier run. With ``strict`` a name the ``parameters`` cell
    does not assign raises ``InvalidInputError`` listing the notebook's parameters (a typo
    would otherwise be silently ignored). Secret-looking names are always refused.
    """
    import copy

    import nbformat

    for name in parameters:
        check_not_secret(name)
    known = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - set(known))
    if strict and unknown:
        listed = ", ".join(known) or "none (no cell is tagged 'parameters')"
        raise InvalidInputError(
            f"unknown parameter {', '.join(map(repr, unknown))}; this notebook's parameters: "
            f"{listed}",
            field="parameters",
            allowed=tuple(known),
        )
    result = copy.deepcopy(notebook)
    result.cells = [c for c in result.cells if INJECTED_TAG not in _tags(c)]
    if not parameters:
        return result
    lines = ["# Parameters injected for this run"]
    lines += [f"{name} = {value!r}" for name, value in parameters.items()]
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    cell.metadata["tags"] = [INJECTED_TAG]
    anchor = _parameters_cell(result)
    position = 0 if anchor is None else result.cells.index(anchor) + 1
    result.cells.insert(position, cell)
    return result


def run_notebook(
    notebook: str | os.PathLike[str] | NotebookNode,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    name: str | None = None,
) -> NotebookNode:
    """Execute a notebook top to bottom in a fresh kernel; return the executed copy.

    ``notebook``: a path or a ``NotebookNode`` (not modified). ``parameters`` are injected
    (see ``inject_parameters``). ``cwd``: the kernel's working folder (default: the current
    one, as papermill does, so that relative paths given as parameters mean what they mean
    in the shell they were typed in); ``timeout``: seconds allowed per cell;
    ``env``: extra environment variables for the kernel. Secrets from the environment
    (``TWILIO_AUTH_TOKEN``, ``TWILIO_API_SECRET``) are redacted from every output.

    Raises ``NotebookCellError`` when a cell fails (``.notebook`` holds the outputs so far).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if isinstance(notebook, (str, os.PathLike)):
        source = read_notebook(notebook)
        name = name or os.fspath(notebook)
    else:
        source, name = notebook, name or "notebook"
    folder = Path.cwd() if cwd is None else Path(cwd)
    executed = inject_parameters(source, parameters or {})
    environment = kernel_environment(env)
    secrets = [environment[name] for name in SECRET_ENV if environment.get(name)]
    runner = NotebookClient(
        executed,
        timeout=timeout,
        kernel_name="python3",
        km=_kernel_manager(),
        resources={"metadata": {"path": os.fspath(folder)}},
    )
    try:
        runner.execute(env=environment)
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        redact_secrets(executed, secrets)
        raise _cell_error(executed, name, error) from None
    redact_secrets(executed, secrets)
    return executed


def kernel_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The kernel's environment: ours, plus ``KERNEL_ENV`` and ``extra``, with this
    checkout of commstoolkit first on ``PYTHONPATH`` (the kernel runs the same code)."""
    env = {**os.environ, **KERNEL_ENV, **(extra or {})}
    package_root = str(Path(__file__).resolve().parents[2])  # the folder holding commstoolkit/
    paths = [package_root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def redact_secrets(notebook: NotebookNode, secrets: Iterable[str] | None = None) -> int:
    """Replace every secret (default: the values of ``TWILIO_AUTH_TOKEN`` and
    ``TWILIO_API_SECRET`` in the environment) in cell sources and outputs; return how many
    strings changed."""
    values = [s for s in (secrets if secrets is not None else _env_secrets()) if len(s) >= 4]
    if not values:
        return 0
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    changed = 0
    for cell in notebook.cells:
        redacted = pattern.sub(REDACTED, cell.source)
        if redacted != cell.source:
            cell.source, changed = redacted, changed + 1
        for output in cell.get("outputs", []):
            changed += _redact_node(output, pattern)
    return changed


def _redact_node(node: Any, pattern: re.Pattern[str]) -> int:
    changed = 0
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in list(items):
        if isinstance(value, str):
            redacted = pattern.sub(REDACTED, value)
            if redacted != value:
                node[key], changed = redacted, changed + 1
        elif isinstance(value, (dict, list)):
            changed += _redact_node(value, pattern)
    return changed


def _env_secrets() -> list[str]:
    return [os.environ[name] for name in SECRET_ENV if os.environ.get(name)]


def _kernel_manager() -> Any:
    """A kernel manager that starts ``ipykernel`` with this interpreter, whatever
    ``python3`` kernelspec the user's Jupyter folders hold."""
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

    return KernelManager(kernel_name="python3", kernel_spec_manager=ThisInterpreter())


def _cell_error(notebook: NotebookNode, path: str, error: Exception) -> NotebookCellError:
    for number, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return NotebookCellError(
                    path=path,
                    number=number,
                    cell_id=cell.get("id"),
                    source=cell.source,
                    ename=output.get("ename", "Error"),
                    evalue=output.get("evalue", ""),
                    traceback=_strip_ansi("\n".join(output.get("traceback", []))),
                    notebook=notebook,
                )
    # No error output (a timeout, a dead kernel): name the last cell that started.
    started = [i for i, c in enumerate(notebook.cells, 1) if c.get("execution_count")]
    number = started[-1] if started else 1
    cell = notebook.cells[number - 1]
    return NotebookCellError(
        path=path,
        number=number,
        cell_id=cell.get("id"),
        source=cell.source,
        ename=getattr(error, "ename", type(error).__name__),
        evalue=getattr(error, "evalue", str(error).splitlines()[0] if str(error) else ""),
        traceback=_strip_ansi(str(error)),
        notebook=notebook,
    )


def _parameters_cell(notebook: NotebookNode) -> Any:
    return next(
        (c for c in notebook.cells if c.cell_type == "code" and PARAMETERS_TAG in _tags(c)), None
    )


def _tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _indent(source: str, limit: int = 12) -> str:
    lines = source.splitlines() or [""]
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"... ({len(lines) - limit} more lines)")
    return "\n".join(f"    {line}" for line in shown)
