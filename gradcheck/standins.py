"""Stand-ins: correct units for the sessions that grade what is built from them, computed here.

"One bug, one deduction": a student whose MultiplyGate (or ``affine_backward``) is wrong should lose
that unit's points, not every graph, network or model check that uses it. In the sessions that grade
the graph, the MLP and declared models, the assignment's gates, function pairs and loss functions
whose own checks did not all pass are replaced by stand-ins. A stand-in lives in the worker but
computes nothing there: its calls send their arguments to this side, where the reference computes the
values (``sandbox.inside.ops._Remote``). A gate stand-in is a class; a function pair's are two
functions whose cache is an opaque token (the reference's cache stays here); a loss function's is a
function. The worker never holds a correct unit, so there is nothing there to read, copy or print. A
unit the student got right stays the student's own.

Only the units chosen (``units()``, as the load request installed them) are answered: the channel
cannot compute a unit whose own checks the student passed, or one outside the assignment, nor, while
students see what the session's code does, a unit with a check withheld from them (Note [Stand-ins and
withheld checks]).

The student chooses a stand-in call's arguments, and the reference runs on them in the grader's process:
what it keeps between calls (gate instances, function-pair caches) is bounded in bytes, the oldest
dropped first (``MAX_KEPT_BYTES``: a backward of a dropped one is refused), and it runs with numpy's
global generator seeded from the call (Note [Stand-ins and numpy's global generator]). What one call's
reference allocates is bounded by the grader process's data limit (``batch.limit_grader_memory``), its
time by the hung-grader timeout (tests/hostile/rt21_standin_amplify).
"""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np

from .units import DIFFERENTIABLE

__all__ = ["StandIns"]

MAX_INSTANCES = 200_000  # stand-in gate instances and function-pair calls one session may make
MAX_LIVE_CACHES = 20_000  # function-pair caches kept for a backward; the oldest are dropped beyond
MAX_KEPT_BYTES = 128 * 2**20  # array bytes of the gate instances and caches kept; the oldest are dropped beyond
MAX_ELEMENTS = 5_000_000  # elements of one argument
MAX_VALUES = 16  # arrays one call sends: inputs, a param's arrays
MAX_CONSTANTS = 4  # a gate's constructor arguments
MAX_PARAM_KEYS = 32
PLAIN = (str, bool, int, float, type(None))


class StandIns:
    """units(): the units to replace, from the results judged so far (a unit with any ``<unit id>.*``
    result that is not a pass, or with none at all); request(): what the worker's load needs to install
    them; handle(): one call of one stand-in, validated like any reply from a worker.

    units: the assignment's units (those of a differentiable style can be replaced); reference: a
    callable giving the reference module of a module name; everyone: every such unit, whatever its
    checks said; withheld: the ids of units never replaced (Note [Stand-ins and withheld checks])."""

    def __init__(self, units, results, reference, everyone=False, withheld=()):
        withheld = set(withheld)
        self.all = [u for u in units if u.style in DIFFERENTIABLE and u.id not in withheld]
        self.results = results  # check id -> CheckResult, filled as the parts are judged
        self.reference = reference
        self.everyone = everyone
        self.instances = {}  # gate stand-in id -> reference gate
        self.caches = OrderedDict()  # function-pair call id -> (unit, the reference's cache)
        self.made = 0
        self.kept = OrderedDict()  # ("g" | "p", id) -> the array bytes it holds, oldest first
        self.kept_bytes = 0
        self._answered = None  # unit id -> unit: those the last load request installed (see answered)

    def units(self) -> list:
        if self.everyone:
            return list(self.all)
        verdicts = {}
        for check_id, result in self.results.items():
            verdicts.setdefault(check_id.rsplit(".", 1)[0], []).append(result.status == "pass")
        return [u for u in self.all if not verdicts.get(u.id) or not all(verdicts[u.id])]

    def names(self) -> list:
        """The ids of the units replaced (none: the with-stand-ins session is the student's own)."""
        return [u.id for u in self.units()]

    @property
    def answered(self) -> dict:
        """The units a call may ask for: those ``request()`` last installed (computed once, not per call:
        a session makes thousands of calls)."""
        if self._answered is None:
            self._answered = {u.id: u for u in self.units()}
        return self._answered

    def request(self) -> dict:
        """The load request's ``standins``: per unit, its id, style, module and the names to replace."""
        self._answered = None
        return {
            "units": [
                {
                    "id": u.id,
                    "style": u.style,
                    "module": u.module,
                    "names": [u.name] if u.style == "gate" else [n for n in (u.forward_name, u.backward_name) if n],
                }
                for u in self.answered.values()
            ]
        }

    def handle(self, request, arrays):
        try:
            return self._handle(request, arrays)
        except Exception as exc:  # noqa: BLE001 - the student's arguments may make any unit raise
            return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}, []

    def _handle(self, request, arrays):
        if not isinstance(request, dict):
            raise ValueError("malformed stand-in request")
        unit_id, ident, step = request.get("unit"), request.get("id"), request.get("step")
        unit = self.answered.get(unit_id) if isinstance(unit_id, str) else None
        if unit is None or type(ident) is not int or step not in ("f", "b"):
            raise ValueError("malformed stand-in request")
        if len(arrays) > MAX_VALUES or any(np.asarray(a).size > MAX_ELEMENTS for a in arrays):
            raise ValueError("too many or too large arguments")
        values = [np.array(a) for a in arrays]
        ref = self.reference(unit.module)
        np.random.seed(ident % 2**32)  # see Note [Stand-ins and numpy's global generator]
        if unit.style == "gate":
            return self._gate(unit, ref, ident, step, request.get("args"), values)
        if step == "f":
            if self.made >= MAX_INSTANCES:
                raise ValueError(f"more than {MAX_INSTANCES} stand-in calls")
            self.made += 1
        if unit.style == "loss_function":
            if step != "f" or len(values) != unit.arity:
                raise ValueError(f"{unit.forward_name} takes {unit.arity} arguments")
            loss, grad = getattr(ref, unit.forward_name)(*values)
            return {"outs": 2}, [np.asarray(loss, dtype=np.float64), np.asarray(grad, dtype=np.float64)]
        return self._pair(unit, ref, ident, step, request, values)

    def _gate(self, unit, ref, ident, step, args, values):
        if (
            not isinstance(args, list)
            or len(args) > MAX_CONSTANTS
            or not all(isinstance(a, (int, float)) for a in args)
        ):
            raise ValueError("malformed stand-in arguments")
        if step == "f":
            if ident not in self.instances and len(self.instances) >= MAX_INSTANCES:
                raise ValueError(f"more than {MAX_INSTANCES} gate instances")
            gate = self.instances[ident] = getattr(ref, unit.name)(*args)
            floats = [float(v) if v.ndim == 0 and v.dtype.kind == "f" else v for v in values]
            out = np.asarray(gate.forward(*floats), dtype=np.float64)
            self._keep(("g", ident), gate)
            return {"outs": 1}, [out]
        gate = self.instances.get(ident)
        if gate is None:
            raise ValueError("backward() before forward()")
        grads = gate.backward(*values)
        grads = grads if isinstance(grads, (list, tuple)) else [grads]
        return {"outs": len(grads)}, [np.asarray(g, dtype=np.float64) for g in grads]

    def _pair(self, unit, ref, ident, step, request, values):
        if step == "b":
            entry = self.caches.get(ident)
            if entry is None or entry[0] is not unit or len(values) != 1:
                raise ValueError(f"{unit.backward_name}: the cache is not one {unit.forward_name} returned")
            grads = getattr(ref, unit.backward_name)(values[0], entry[1])
            single = not isinstance(grads, (list, tuple))  # one gradient, returned as itself (relu_backward's dx)
            grads = [grads] if single else grads
            return {"outs": len(grads), "single": single}, [np.asarray(g, dtype=np.float64) for g in grads]
        plain, keys = request.get("param"), request.get("param_arrays", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise ValueError("malformed stand-in param")
        if len(values) != unit.arity + len(keys):
            raise ValueError(f"{unit.forward_name} takes {unit.arity} inputs")
        extra = []
        if unit.param is not None:
            if not isinstance(plain, dict) or len(plain) + len(keys) > MAX_PARAM_KEYS:
                raise ValueError(f"{unit.forward_name}: its last argument must be the {unit.param.name} dict")
            if not all(isinstance(k, str) and isinstance(v, PLAIN) for k, v in plain.items()):
                raise ValueError(f"{unit.forward_name}: {unit.param.name} holds values that are not plain data")
            param = {**copy.deepcopy(plain), **dict(zip(keys, values[unit.arity :]))}
            extra = [param]
        inputs = [v.copy() for v in values[: unit.arity]]
        out, cache = getattr(ref, unit.forward_name)(*inputs, *extra)
        self.caches[ident] = (unit, cache)
        if len(self.caches) > MAX_LIVE_CACHES:
            self._drop(("p", next(iter(self.caches))))
        self._keep(("p", ident), cache)
        # the keys the function may change go back, so the student's dict is updated in place (running averages)
        changed = [k for k in (unit.param.mutable if unit.param else ()) if k in extra[0]] if extra else []
        back = [np.asarray(extra[0][k], dtype=np.float64) for k in changed]
        return {"outs": 1, "param": changed}, [np.asarray(out, dtype=np.float64), *back]

    def _keep(self, key, obj):
        """Count what a gate instance or a cache holds; drop the oldest while the total is over the cap."""
        self.kept_bytes -= self.kept.pop(key, 0)
        self.kept[key] = _array_bytes(obj)
        self.kept_bytes += self.kept[key]
        while self.kept_bytes > MAX_KEPT_BYTES and self.kept:
            self._drop(next(iter(self.kept)))

    def _drop(self, key):
        self.kept_bytes -= self.kept.pop(key, 0)
        (self.instances if key[0] == "g" else self.caches).pop(key[1], None)


def _array_bytes(obj, depth=4) -> int:
    """The bytes of the arrays ``obj`` holds: in tuples, lists, dicts and an object's attributes, ``depth``
    levels down (a reference's cache or gate instance; a view counts as its own size)."""
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if depth == 0:
        return 0
    if isinstance(obj, dict):
        items = obj.values()
    elif isinstance(obj, (list, tuple)):
        items = obj
    else:
        items = getattr(obj, "__dict__", {}).values()
    return sum(_array_bytes(v, depth - 1) for v in items)


# Note [Stand-ins and numpy's global generator]
# A reference may draw from numpy's global generator (dropout's mask without a "seed" in its
# dropout_param). Run as it is, a stand-in call would draw from the grader process's generator, whose
# state depends on the submissions and calls that process handled before: the same submission would get
# another report under another --jobs or order (tests/hostile/rt21_unseeded_dropout). So each call
# first seeds the generator from the call's id (chosen by the worker, the same on every run of the same
# code): what it draws depends only on the call. (Seeding costs ~3 us; saving and restoring the state
# ~200 us, 0.5 s of a submission's ~2300 calls, so the state is not put back: the grader itself never
# draws from that generator unseeded, and checks/models.py keeps it around the reference's constructor.)


# Note [Stand-ins and withheld checks]
# Whatever a stand-in answers, the student's code can put in a message (an exception's text in a model
# check's message): the channel is an oracle of the reference, on arguments of the student's choosing.
# For a unit whose checks the student sees, that tells nothing the visible checks do not (expected values
# included). For a unit with a check withheld from students (hidden, after the due date, after
# publishing), it would hand out the model solution's values for what is meant to stay unseen
# (tests/hostile/rt21_oracle_hidden_unit). So in the sessions of the visible checks such a unit is never
# a stand-in: the student's own runs there (a wrong one then also costs the visible checks of what is
# built from it; the withheld round's sessions, whose messages students do not see, replace it as usual).
