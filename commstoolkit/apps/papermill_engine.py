"""papermill, as the toolkit runs notebooks with it: an engine registered as
``commstoolkit`` (nbclient as papermill drives it, in the kernel of ``kernel.py``) and a
translator for the kernel name ``commstoolkit-python`` (values written as Python literals,
``repr``, under our comment; the parameters read as ``parameters.py`` reads them).

Importing this module imports papermill and registers both (``notebook_runner`` imports it
on first use). A notebook's own kernelspec is left as it is: the kernel name given to
papermill only picks the translator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from papermill.engines import NBClientEngine, papermill_engines
from papermill.models import Parameter
from papermill.translators import PythonTranslator, papermill_translators

from .kernel import kernel_manager
from .parameters import INJECTED_COMMENT, assignments

__all__ = ["ENGINE", "KERNEL_NAME", "Engine", "Run", "Translator"]

ENGINE = "commstoolkit"
KERNEL_NAME = "commstoolkit-python"


@dataclass
class Run:
    """What one run hands the engine (the kernel's environment and folder) and what the
    engine leaves on it (the notebook as far as it ran, whatever stopped it)."""

    env: dict[str, str]
    folder: str
    notebook: Any = None


class Translator(PythonTranslator):
    """Values as Python literals (``repr``) under our comment; the parameters as
    ``notebook_parameters`` reads them (papermill's own reader skips a line with ``=`` in
    its comment, and cuts a default at a ``#`` inside a string)."""

    @classmethod
    def codify(cls, parameters: Mapping[str, Any], comment: str = "") -> str:
        lines = [f"{name} = {value!r}" for name, value in parameters.items()]
        return "\n".join([INJECTED_COMMENT, *lines])

    @classmethod
    def inspect(cls, parameters_cell: Any) -> list[Any]:
        return [
            Parameter(name=name, inferred_type_name="None", default=default, help="")
            for name, default in assignments(parameters_cell.source).items()
        ]


class Engine(NBClientEngine):
    """nbclient, as papermill runs it, in this interpreter's ipykernel (``kernel.py``)."""

    @classmethod
    def execute_managed_notebook(
        cls, nb_man: Any, kernel_name: str, *, run: Run, **kwargs: Any
    ) -> Any:
        run.notebook = nb_man.nb  # the object executed in place: kept if a cell stops it
        return super().execute_managed_notebook(
            nb_man,
            kernel_name,
            km=kernel_manager(run.env),
            resources={"metadata": {"path": run.folder}},  # the kernel's folder, not a chdir
            raise_on_iopub_timeout=False,  # as nbclient: a late output is not a failure
            **kwargs,
        )


papermill_translators.register(KERNEL_NAME, Translator)
papermill_engines.register(ENGINE, Engine)
