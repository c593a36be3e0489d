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

import ast
import copy
import functools
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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
    "check_parameters",
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
    """The names the ``parameters`` cell assigns, each with its default's source text.

    papermill lists a notebook's parameters through its translator's ``inspect``; ours (the
    ``commstoolkit`` kernel's) answers with this, read by Python's parser: papermill's own
    reader drops every line whose comment holds ``=`` (``seed = None  # None = as seeded``).
    """
    cell = _parameters_cell(notebook)
    return {} if cell is None else _assignments(cell.source)


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
        return _without_injected(notebook)
    _papermill()  # our translator, registered
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    prepared = load_notebook_node(_without_injected(notebook))  # a copy, as papermill wants it
    injected = parameterize_notebook(
        prepared, dict(parameters), kernel_name=KERNEL_NAME, language="python", engine_name=ENGINE
    )
    return _tidy(injected)


def check_parameters(
    notebook: NotebookNode, parameters: Mapping[str, Any], *, strict: bool = True
) -> None:
    """Refuse secret-looking names and (with ``strict``) names the ``parameters`` cell does
    not assign: ``InvalidInputError`` listing the notebook's parameters."""
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
    papermill = _papermill()
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    environment = kernel_environment(env)
    secrets = [environment[name] for name in SECRET_ENV if environment.get(name)]
    run = _Run(env=environment, folder=os.fspath(Path.cwd() if cwd is None else Path(cwd)))
    stopped: Exception | None = None
    try:
        executed = papermill.execute_notebook(
            _without_injected(source),
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
    except (PapermillExecutionError, CellTimeoutError, DeadKernelError) as error:
        if run.notebook is None:  # stopped before the engine started: nothing ran
            raise
        executed, stopped = run.notebook, error
    executed = _tidy(
        executed, input_path=name if isinstance(notebook, (str, os.PathLike)) else None
    )
    redact_secrets(executed, secrets)
    # A cell that ended in sys.exit() stops papermill without an exception: a failure too.
    if stopped is not None or _error_cell(executed) is not None:
        raise _cell_error(executed, name, stopped) from None
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


# -- papermill: our engine (the kernel) and our translator (reading and writing parameters) --


ENGINE = "commstoolkit"
# The kernel name papermill is given: it picks our translator; the kernel that starts is
# always this interpreter's ipykernel (the notebook's own kernelspec is left as it is).
KERNEL_NAME = "commstoolkit-python"
INJECTED_COMMENT = "# Parameters injected for this run"


@dataclass
class _Run:
    """What one run hands our papermill engine (the kernel's environment and folder) and
    what the engine leaves on it (the notebook as far as it ran, whatever stopped it)."""

    env: dict[str, str]
    folder: str
    notebook: Any = None


@functools.cache
def _papermill() -> Any:
    """papermill, with our engine and translator registered (once, on first use)."""
    import papermill
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.models import Parameter
    from papermill.translators import PythonTranslator, papermill_translators

    class Translator(PythonTranslator):
        """Values as Python literals (``repr``) under our comment; the parameters as
        ``notebook_parameters`` reads them."""

        @classmethod
        def codify(cls, parameters: Mapping[str, Any], comment: str = "") -> str:
            lines = [f"{name} = {value!r}" for name, value in parameters.items()]
            return "\n".join([INJECTED_COMMENT, *lines])

        @classmethod
        def inspect(cls, parameters_cell: Any) -> list[Any]:
            return [
                Parameter(name=name, inferred_type_name="None", default=default, help="")
                for name, default in _assignments(parameters_cell.source).items()
            ]

    class Engine(NBClientEngine):
        """nbclient, as papermill runs it, in this interpreter's ipykernel."""

        @classmethod
        def execute_managed_notebook(
            cls, nb_man: Any, kernel_name: str, *, run: _Run, **kwargs: Any
        ) -> Any:
            run.notebook = nb_man.nb  # the object executed in place: kept if a cell stops it
            return super().execute_managed_notebook(
                nb_man,
                kernel_name,
                km=_kernel_manager(run.env),
                resources={"metadata": {"path": run.folder}},  # the kernel's folder, not ours
                raise_on_iopub_timeout=False,  # as nbclient: a late output is not a failure
                **kwargs,
            )

    papermill_translators.register(KERNEL_NAME, Translator)
    papermill_engines.register(ENGINE, Engine)
    return papermill


def _kernel_manager(env: Mapping[str, str]) -> Any:
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


def _without_injected(notebook: NotebookNode) -> NotebookNode:
    """A copy without the cells an earlier run injected."""
    result = copy.deepcopy(notebook)
    result.cells = [c for c in result.cells if INJECTED_TAG not in _tags(c)]
    return result


def _assignments(source: str) -> dict[str, str]:
    """The names a cell's code assigns at top level, each with its value's source text."""
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        targets: list[ast.expr]
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                found[target.id] = ast.get_source_segment(source, value) or ""
    return found


def _error_cell(notebook: NotebookNode) -> tuple[int, Any, Any] | None:
    """The first cell with an error output: its 1-based number, the cell, the output."""
    for number, cell in enumerate(notebook.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return number, cell, output
    return None


def _cell_error(notebook: NotebookNode, path: str, error: Exception | None) -> NotebookCellError:
    found = _error_cell(notebook)
    if found is not None:
        number, cell, output = found
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
    text = str(error) if error is not None else ""
    return NotebookCellError(
        path=path,
        number=number,
        cell_id=cell.get("id"),
        source=cell.source,
        ename=getattr(error, "ename", type(error).__name__),
        evalue=getattr(error, "evalue", text.splitlines()[0] if text else ""),
        traceback=_strip_ansi(text),
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
