"""The applications built on the toolkit: the command line, the demo, reports and notebook
execution. Each imports the ones after it, never one before::

    cli               the ``commstoolkit`` command line: one module per command group
                      (demo, report, senders, pools, sandbox), the parser's shared parts,
                      and errors as one line with an exit status
    demo              ``commstoolkit demo``: the four notebooks on a fresh sandbox
    reports           standalone offline HTML reports of executed notebooks
    notebook_runner   run a notebook with parameters (papermill), secrets redacted, a
                      failing cell as one line
    papermill_engine  papermill as we run it: our engine and parameter translator
    kernel            the kernel: this interpreter's ipykernel, plotly and tqdm set
    parameters        a notebook's parameters: read, checked, parsed from key=value

The old paths ``commstoolkit.cli``, ``commstoolkit.demo``, ``commstoolkit.reports`` and
``commstoolkit.notebook_runner`` still import the same names.
"""
