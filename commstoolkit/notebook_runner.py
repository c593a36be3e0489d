"""Notebook execution's old path: it lives in ``commstoolkit.apps.notebook_runner``::

from commstoolkit.notebook_runner import run_notebook   # still works
"""

from .apps.notebook_runner import (
    DEFAULT_TIMEOUT,
    INJECTED_TAG,
    KERNEL_ENV,
    PARAMETERS_TAG,
    REDACTED,
    SECRET_ENV,
    SECRET_NAME,
    NotebookCellError,
    check_not_secret,
    inject_parameters,
    kernel_environment,
    notebook_parameters,
    parse_parameter,
    read_notebook,
    redact_secrets,
    run_notebook,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "INJECTED_TAG",
    "KERNEL_ENV",
    "PARAMETERS_TAG",
    "REDACTED",
    "SECRET_ENV",
    "SECRET_NAME",
    "NotebookCellError",
    "check_not_secret",
    "inject_parameters",
    "kernel_environment",
    "notebook_parameters",
    "parse_parameter",
    "read_notebook",
    "redact_secrets",
    "run_notebook",
]
