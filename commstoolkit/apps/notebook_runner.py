"""Run a notebook headless with parameters, through papermill, in a real IPython kernel.

::

    from commstoolkit.apps.notebook_runner import run_notebook
    executed = run_notebook("notebooks/03_test_send.ipynb", {"seed": 11, "sandbox_db": db})

papermill injects the parameters and runs the notebook: the defaults sit in the cell tagged
``parameters``; the values given go into a new cell tagged ``injected-parameters`` right
after it (``name = repr(value)``), so the executed notebook shows what it was run with
(papermill also records them in the notebook's metadata). The notebooks run with papermill
itself too: ``papermill notebooks/01_sender_inventory.ipynb out.ipynb -p seed 11``.

What is ours on top of papermill:

- the kernel is this interpreter's ``ipykernel`` (never another environment's ``python3``
  kernelspec), with plotly drawing into the notebook's own mimetype and tqdm bars off: a
  papermill engine, registered as ``commstoolkit``;
- parameters are checked before anything runs: a name the ``parameters`` cell does not
  assign is refused (papermill only warns), and so is a name that looks like a credential;
  the ``parameters`` cell is read with Python's own parser (papermill's reader skips a line
  with ``=`` in its comment);
- secrets from the environment are redacted from every output;
- a failing cell raises ``NotebookCellError``, one line naming the cell and the error, with
  the partly executed notebook on it (without papermill's error banner cells);
- no progress bar, and no papermill bookkeeping on each cell of the executed notebook.

nbformat, nbclient and papermill are imported on first use: ``import commstoolkit`` stays
light.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..connect import ENV_API_SECRET, ENV_AUTH_TOKEN
from ..errors import CommsError
from .kernel import KERNEL_ENV, KERNEL_STARTUP, kernel_environment
from .parameters import (
    INJECTED_TAG,
    PARAMETERS_TAG,
    SECRET_NAME,
    check_not_secret,
    check_parameters,
    notebook_parameters,
    parse_parameter,
    without_injected,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode

__all__ = [
    "DEFAULT_TIMEOUT",
    "INJECTED_TAG",
    "KERNEL_ENV",
    "KERNEL_STARTUP",
    "PARAMETERS_TAG",
    "REDACTED",
    "SECRET_ENV",
    "SECRET_NAME",
    "NotebookCellError",
    "check_not_secret",
    "check_parameters",
    "inject_parameters",
    "kernel_environment",
    "notebook_parameters",
    "parse_parameter",
    "read_notebook",
    "redact_secrets",
    "run_notebook",
]

DEFAULT_TIMEOUT = 600.0
REDACTED = "[secret redacted]"
SECRET_ENV = (ENV_AUTH_TOKEN, ENV_API_SECRET)


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


def read_notebook(path: str | os.PathLike[str]) -> NotebookNode:
    """Read a notebook as nbformat v4 (upgrading older minor versions)."""
    import nbformat

    notebook: NotebookNode = nbformat.read(os.fspath(path), as_version=4)  # read() is unannotated
    return notebook


def inject_parameters(
    notebook: NotebookNode, parameters: Mapping[str, Any], *, strict: bool = True
) -> NotebookNode:
    """A copy of ``notebook`` with ``parameters`` in a new ``injected-parameters`` cell,
    injected by papermill.

    The cell goes right after the ``parameters`` cell (at the top when there is none) and
    replaces one injected by an earlier run. With ``strict`` a name the ``parameters`` cell
    does not assign raises ``InvalidInputError`` listing the notebook's parameters (a typo
    would otherwise be silently ignored). Secret-looking names are always refused.
    """
    check_parameters(notebook, parameters, strict=strict)
    if not parameters:
        return without_injected(notebook)
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    from .papermill_engine import ENGINE, KERNEL_NAME

    prepared = load_notebook_node(without_injected(notebook))  # a copy, as papermill wants it
    injected = parameterize_notebook(
        prepared, dict(parameters), kernel_name=KERNEL_NAME, language="python", engine_name=ENGINE
    )
    return _tidy(injected)


def run_notebook(
    notebook: str | os.PathLike[str] | NotebookNode,
    parameters: Mapping[str, Any] | None = None,
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    name: str | None = None,
) -> NotebookNode:
    """Execute a notebook top to bottom in a fresh kernel, with papermill; return the
    executed copy.

    ``notebook``: a path or a ``NotebookNode`` (not modified). ``parameters`` are checked
    and injected (see ``inject_parameters``). ``cwd``: the kernel's working folder (default:
    the current one, as papermill does, so that relative paths given as parameters mean what
    they mean in the shell they were typed in); ``timeout``: seconds allowed per cell;
    ``env``: extra environment variables for the kernel. Secrets from the environment
    (``TWILIO_AUTH_TOKEN``, ``TWILIO_API_SECRET``) are redacted from every output.

    Raises ``NotebookCellError`` when a cell fails (``.notebook`` holds the outputs so far).
    """
    if isinstance(notebook, (str, os.PathLike)):
        source = read_notebook(notebook)
        name = name or os.fspath(notebook)
    else:
        source, name = notebook, name or "notebook"
    given = dict(parameters or {})
    check_parameters(source, given)
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from .papermill_engine import ENGINE, KERNEL_NAME, Run

    environment = kernel_environment(env)
    secrets = [environment[name] for name in SECRET_ENV if environment.get(name)]
    run = Run(env=environment, folder=os.fspath(Path.cwd() if cwd is None else Path(cwd)))
    stopped: Exception | None = None
    try:
        executed = papermill.execute_notebook(
            without_injected(source),
            None,  # papermill writes nothing: the caller decides where the notebook goes
            parameters=given or None,
            engine_name=ENGINE,
            kernel_name=KERNEL_NAME,
            language="python",
            progress_bar=False,
            request_save_on_cell_execute=False,
            execution_timeout=timeout,
            run=run,
        )
    except PapermillExecutionError:
        # papermill raises for any error output, also one of a cell tagged raises-exception
        # (nbclient ran on past it); the cell that failed is the one marked below.
        executed = run.notebook
    except (CellTimeoutError, DeadKernelError) as error:
        if run.notebook is None:  # stopped before the engine started: nothing ran
            raise
        executed, stopped = run.notebook, error
    # The cell at which nbclient stopped (an error, sys.exit() too), as papermill marks it.
    failed = next(
        (c for c in executed.cells if c.metadata.get("papermill", {}).get("exception")), None
    )
    executed = _tidy(
        executed, input_path=name if isinstance(notebook, (str, os.PathLike)) else None
    )
    redact_secrets(executed, secrets)
    if failed is not None or stopped is not None:
        raise _cell_error(executed, name, stopped, failed) from None
    return executed


def redact_secrets(notebook: NotebookNode, secrets: Iterable[str] | None = None) -> int:
    """Replace every secret (default: the values of ``TWILIO_AUTH_TOKEN`` and
    ``TWILIO_API_SECRET`` in the environment) in cell sources and outputs, and in the
    notebook's metadata (papermill records the parameters there); return how many strings
    changed."""
    values = [s for s in (secrets if secrets is not None else _env_secrets()) if len(s) >= 4]
    if not values:
        return 0
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))
    changed = _redact_node(notebook.get("metadata", {}), pattern)
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


def _tidy(notebook: NotebookNode, *, input_path: str | None = None) -> NotebookNode:
    """Leave out what papermill adds that no one reads: its error banner cells, an empty
    ``tags`` list and its timings on every cell; its record of the run (parameters, times,
    version) stays in the notebook's metadata, naming the notebook by path (papermill puts
    a notebook given as an object there whole)."""
    from papermill.execute import remove_error_markers

    notebook = remove_error_markers(notebook)
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    record = notebook.metadata.get("papermill", {})
    if "input_path" in record:
        record["input_path"] = input_path
    return notebook


def _cell_error(
    notebook: NotebookNode, path: str, error: Exception | None, failed: Any
) -> NotebookCellError:
    """The error of the cell ``failed`` (at which execution stopped), or with no such cell
    (a timeout, a dead kernel) of the last cell that started."""
    if failed is not None:
        number = next(i for i, c in enumerate(notebook.cells, 1) if c is failed)
    else:
        started = [i for i, c in enumerate(notebook.cells, 1) if c.get("execution_count")]
        number = started[-1] if started else 1
    cell = notebook.cells[number - 1]
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        output = errors[0]
        ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
        trace = "\n".join(output.get("traceback", []))
    else:
        trace = str(error) if error is not None else ""
        ename = getattr(error, "ename", type(error).__name__)
        evalue = getattr(error, "evalue", trace.splitlines()[0] if trace else "")
    return NotebookCellError(
        path=path,
        number=number,
        cell_id=cell.get("id"),
        source=cell.source,
        ename=ename,
        evalue=evalue,
        traceback=_strip_ansi(trace),
        notebook=notebook,
    )


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _indent(source: str, limit: int = 12) -> str:
    lines = source.splitlines() or [""]
    shown = lines[:limit]
    if len(lines) > limit:
        shown.append(f"... ({len(lines) - limit} more lines)")
    return "\n".join(f"    {line}" for line in shown)
