"""The pool doctor: from a finding to a safe fix.

::

    diagnosis = ct.diagnose(client, "Customer Support - NAMER", traffic)  # or a test send
    diagnosis                       # findings, their evidence, the changes proposed
    plan = diagnosis.plan(reject=["idle_members"])  # a PoolPlan: each change with its reason
    plan.apply()                    # the one safe path for every pool change

Modules, top down (each imports only those below it; ``.importlinter`` keeps the order):
``api`` (``diagnose``), ``diagnosis`` (``Diagnosis``: views and the plan), then
``evidence`` (traffic findings and test sends judged), ``replacements`` (the senders
proposed), ``inventory`` (what the account says without traffic), then ``findings``
(``DoctorFinding``, ``ProposedChange``, the kinds).
"""

from __future__ import annotations

from .api import diagnose
from .diagnosis import Diagnosis
from .findings import KINDS as KINDS
from .findings import DoctorFinding, ProposedChange

__all__ = ["Diagnosis", "DoctorFinding", "ProposedChange", "diagnose"]
