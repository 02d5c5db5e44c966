"""What runs inside the sandbox: the fork server (``zygote.py``), the worker (``worker.py``, ``ops.py``),
their framing (``protocol.py``) and isolation set-up (``isolation.py``).

These files are loaded by the fork server as top-level modules from this folder: they import only the
standard library, numpy and each other, never the ``gradcheck`` package (a test reads their imports).
The trusted side (``gradcheck.sandbox``) imports ``protocol`` and ``isolation`` from here; nothing here
imports the trusted side.
"""
