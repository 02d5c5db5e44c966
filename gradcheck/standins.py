"""Stand-in gates: correct gates for the sessions that grade the graph and the MLP, computed here.

"One bug, one deduction": a student whose MultiplyGate is wrong should lose that gate's points, not
every graph and network check that uses it. In the sessions that grade graph and MLP, the contract's
gates whose own checks did not all pass are replaced by stand-ins. A stand-in is a class in the
worker whose forward and backward send their arguments to this side, where the reference's gate
computes the values (``sandbox.inside.ops._Remote``): the worker never holds a correct gate, so
there is nothing there to read, copy or print. A gate the student got right stays the student's own.
"""

from __future__ import annotations

import numpy as np

from . import contract
from .reference import gates as reference

MAX_INSTANCES = 200_000  # stand-in gate instances one session may make
MAX_ELEMENTS = 5_000_000  # elements of one argument
# what a contract gate's constructor and forward take at most: one constant, two inputs
MAX_CONSTANTS = max(int(g.constant is not None) for g in contract.GATES.values())
MAX_INPUTS = max(g.arity for g in contract.GATES.values())


class StandIns:
    """names(): the gates to replace, from the results judged so far (a contract gate with any
    ``gates.<Gate>.*`` result that is not a pass, or with none at all); handle(): one forward or
    backward of one stand-in instance, validated like any reply from a worker."""

    def __init__(self, gate_names, results, everyone=False):
        self.gate_names = list(gate_names)  # the grader passes contract.GATE_NAMES
        self.results = results  # check id -> CheckResult, filled as the parts are judged
        self.everyone = everyone  # every gate, whatever its checks said
        self.instances = {}

    def names(self):
        if self.everyone:
            return list(self.gate_names)
        verdicts = {}
        for check_id, result in self.results.items():
            parts = check_id.split(".")
            if len(parts) == 3 and parts[0] == "gates":
                verdicts.setdefault(parts[1], []).append(result.status == "pass")
        return [n for n in self.gate_names if not verdicts.get(n) or not all(verdicts[n])]

    def handle(self, request, arrays):
        try:
            return self._handle(request, arrays)
        except Exception as exc:  # noqa: BLE001 - the student's arguments may make any gate raise
            return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}, []

    def _handle(self, request, arrays):
        if not isinstance(request, dict):
            raise ValueError("malformed stand-in request")
        name, ident, step = request.get("cls"), request.get("id"), request.get("step")
        args = request.get("args")
        if name not in self.gate_names or type(ident) is not int or step not in ("f", "b"):
            raise ValueError("malformed stand-in request")
        if (
            not isinstance(args, list)
            or len(args) > MAX_CONSTANTS
            or not all(isinstance(a, (int, float)) for a in args)
        ):
            raise ValueError("malformed stand-in arguments")
        if len(arrays) > MAX_INPUTS or any(np.asarray(a).size > MAX_ELEMENTS for a in arrays):
            raise ValueError("too many or too large arguments")
        values = [np.array(a) for a in arrays]
        if step == "f":
            if ident not in self.instances and len(self.instances) >= MAX_INSTANCES:
                raise ValueError(f"more than {MAX_INSTANCES} gate instances")
            gate = self.instances[ident] = getattr(reference, name)(*args)
            floats = [float(v) if v.ndim == 0 and v.dtype.kind == "f" else v for v in values]
            return {"outs": 1}, [np.asarray(gate.forward(*floats), dtype=np.float64)]
        gate = self.instances.get(ident)
        if gate is None:
            raise ValueError("backward() before forward()")
        grads = gate.backward(*values)
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        return {"outs": len(grads)}, [np.asarray(g, dtype=np.float64) for g in grads]
