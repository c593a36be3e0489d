"""The ``commstoolkit`` command line.

::

    commstoolkit [--verbose] demo [--out DIR] [--seed N] [--senders N]
    commstoolkit [--verbose] report NOTEBOOK [-p key=value ...] [-o OUT.html]
                                    [--executed OUT.ipynb] [--reset]
    commstoolkit [--verbose] senders export [--format csv|parquet|json] [--status S]
                                            [--channel C] [-o FILE] [--db FILE]
    commstoolkit [--verbose] pools list [--format table|csv|json] [--db FILE]
    commstoolkit [--verbose] pools plan -f POOLS.yaml [--prune] [--db FILE]
    commstoolkit [--verbose] pools apply -f POOLS.yaml [--prune] [--yes] [--db FILE]
    commstoolkit [--verbose] pools export [-o POOLS.yaml] [--db FILE]
    commstoolkit [--verbose] sandbox serve [--host H] [--port P] [--db PATH] [--seed N]
                                           [--senders N] [--traffic-days N]
                                           [--daily-messages N] [--reset]

Everything that reads an account uses ``connect()``: the sandbox unless Twilio
credentials are set in the environment. Messages go to stderr, data to stdout.

Errors are one line on stderr, never a traceback (``--verbose`` adds it). Exit status:
0 done; 1 the work failed (a file that is not a sandbox database, a port in use, an API
error, a failing notebook cell, a sandbox holding changes that a seed would wipe out);
2 the command line is wrong, found before any work starts (an unknown option, a value out
of range, a path that is missing or of the wrong kind, a refused parameter); 130
interrupted. Output cut short by its reader (``| head``) ends quietly with status 0.
``pools plan`` exits 0 when nothing would change and 2 when something would; it and
``pools apply`` exit 1 on any error, their command line included (see ``cli.pools``).

Which sandbox file ``report`` and ``demo`` use (they never reseed a user's account):

- ``demo`` seeds its own file, ``OUT/sandbox.sqlite3`` (marked by ``OUT/.commstoolkit-demo``),
  replacing the one an earlier demo left there. It refuses an output folder whose
  ``sandbox.sqlite3`` it did not write, and the default per-user sandbox file.
- ``report`` on a notebook with a ``sandbox_db`` parameter: when the run asks for a
  particular account (``-p seed=...`` or ``-p senders=...``) without naming a file, the
  notebook gets an in-memory sandbox of its own (``sandbox_db=':memory:'``): the report is
  the same on every run, and the default per-user file is not touched. With
  ``-p sandbox_db=FILE`` that file is opened before the notebook starts; a seed that differs
  from the file's is refused when the file holds changes, unless ``--reset`` (which starts
  the file over). Without a seed the run uses the file (or the default one) as it is.
- ``sandbox serve --seed N`` likewise refuses to reseed a file holding changes, unless
  ``--reset``.
"""

from .failures import CommandError
from .main import main

__all__ = ["CommandError", "main"]
