"""Run untrusted submissions in isolated worker processes; get plain data back.

Trusted-side API::

    from gradcheck.sandbox import Limits, Sandbox
    with Sandbox(Limits(call_seconds=10), hide=[submissions_root, reports_dir]) as sandbox:
        sandbox.isolation                      # what is actually in force on this machine
        with sandbox.session(submission_dir) as s:
            s.modules                          # the "load" reply: which modules imported, errors by name
            r = s.call({"op": "gates", "calls": [...], "order": [...]}, [arrays...])   # -> CallResult
            s.output, s.budget_left

One ``Sandbox`` per grader process starts a fork server (``inside/zygote.py``) that imported numpy
once; each session forks workers from it lazily. Student code runs only in those workers; they send
back JSON and raw arrays of whitelisted dtypes (``inside/protocol.py``), validated here. Nothing is
unpickled. See README.md in this folder for what is guaranteed where.

This file only re-exports. The modules: ``server`` (``Sandbox``: the fork server's control),
``probe`` (the isolation probe), ``session`` (``Session``), ``staging`` (the private copy of a
submission), ``hiding`` (what workers never see), ``limits`` (``Limits``, ``Budget``), ``results``
(``CallResult``, ``Output``), ``messages`` (every sentence the sandbox says), ``errors``
(``SandboxError``), ``replycap`` (each reply's byte cap), ``measure`` (its costs on this machine);
``inside/`` is what runs in the fork server and the workers.
"""

from .errors import SandboxError
from .limits import Budget, Limits
from .messages import (
    MSG_BUDGET,
    MSG_BUDGET_SPENT,
    MSG_CPU,
    MSG_EXIT,
    MSG_FSIZE,
    MSG_HUNG_UP,
    MSG_IMPORT_SKIPPED,
    MSG_INVALID,
    MSG_LOAD,
    MSG_MEMORY,
    MSG_MEMORY_CGROUP,
    MSG_SIGNAL,
    MSG_START,
    MSG_TIMEOUT,
    MSG_TOO_BIG,
)
from .results import CallResult, Output
from .server import Sandbox
from .session import Session

__all__ = [
    "Limits",
    "Sandbox",
    "Session",
    "CallResult",
    "Output",
    "SandboxError",
    "Budget",
    "MSG_BUDGET",
    "MSG_BUDGET_SPENT",
    "MSG_CPU",
    "MSG_EXIT",
    "MSG_FSIZE",
    "MSG_HUNG_UP",
    "MSG_IMPORT_SKIPPED",
    "MSG_INVALID",
    "MSG_LOAD",
    "MSG_MEMORY",
    "MSG_MEMORY_CGROUP",
    "MSG_SIGNAL",
    "MSG_START",
    "MSG_TIMEOUT",
    "MSG_TOO_BIG",
]
