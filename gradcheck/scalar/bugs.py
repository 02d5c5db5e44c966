"""The classic bugs of a scalar autograd engine, as the leaf gradients each would give on a program.

The diagnosis (``gradcheck.diagnosis.diagnose``) names a bug when the student's gradients are what
that bug gives, on every leaf. An assignment declares which bugs to look for (``bugs = [{ says,
model }]``); ``BUG_MODELS`` are the models this module knows. Each model is a small interpreter of
the program (plain floats, the math of each operation) with the one mistake made, run on this side;
where the bug's numbers depend on an order the student's code chose (the order in which a set of
children is visited), every order of a small program is tried (``alternatives``).
"""

from __future__ import annotations

import itertools
import math

from .program import Const, Program, slot_values

__all__ = ["BUG_MODELS", "bug_gradients"]

#: The bug models, and what each is (for the docs and schema; an assignment's ``says`` is what students read).
BUG_MODELS = {
    "assign_not_accumulate": "`=` instead of `+=` in a _backward: a Value used several times keeps one contribution",
    "reflected_no_grad": "__radd__/__rmul__ make a Value that is not part of the graph: no gradient through "
    "`2 + x`, `2 * x`",
    "pow_wrong_exponent": "the derivative of x ** n with the wrong exponent (n * x ** n, x ** (n - 1), ...)",
    "tanh_grad_from_input": "tanh's derivative computed from its input: 1 - x ** 2 instead of 1 - tanh(x) ** 2",
    "topo_no_visited": "the topological sort has no visited set: a Value reached by several paths is "
    "back-propagated once per path",
}
MAX_ORDERS = 256  # orders of children tried for an order-dependent bug
MAX_TOPO = 20_000  # nodes of a topological order without a visited set that is still simulated


def _locals(name, a, out, model=None, variant=0):
    """[(operand position, local derivative)] of one instruction at operand values ``a``."""
    if name == "add":
        return [(0, 1.0), (1, 1.0)]
    if name == "sub":
        return [(0, 1.0), (1, -1.0)]
    if name == "mul":
        return [(0, a[1]), (1, a[0])]
    if name == "div":
        return [(0, 1.0 / a[1]), (1, -a[0] / a[1] ** 2)]
    if name == "pow":
        n, x = a[1], a[0]
        if model == "pow_wrong_exponent":
            wrong = (n * x**n, x ** (n - 1), (n - 1) * x ** (n - 2), n * x ** (n + 1))
            return [(0, float(wrong[variant]))]
        return [(0, n * x ** (n - 1))]
    if name == "neg":
        return [(0, -1.0)]
    if name == "exp":
        return [(0, out)]
    if name == "tanh":
        return [(0, 1.0 - (a[0] ** 2 if model == "tanh_grad_from_input" else out**2))]
    if name == "relu":
        return [(0, 1.0 if a[0] > 0 else 0.0)]
    if name == "sigmoid":
        return [(0, out * (1.0 - out))]
    if name == "log":
        return [(0, 1.0 / a[0])]
    raise ValueError(f"unknown instruction {name!r}")


def _reflected(ins, variant=0) -> bool:
    """``2 + x`` or ``2 * x``: a number on the left of + or *, served by __radd__ / __rmul__ (variant 1:
    of - and / too, which an engine may build on them)."""
    ops = ("add", "mul") if variant == 0 else ("add", "mul", "sub", "div")
    return ins[0] in ops and isinstance(ins[1], Const) and not isinstance(ins[2], Const)


def _backprop(program: Program, values, model=None, variant=0) -> list:
    """Leaf gradients with reverse-mode accumulation in reverse instruction order (a topological
    order), with the one mistake of ``model`` (None: none)."""
    grads = [0.0] * program.n_slots
    grads[program.root] = 1.0
    n = len(program.leaves)
    for k in range(len(program.code) - 1, -1, -1):
        slot = n + k
        if slot > program.root:
            continue
        ins = program.code[k]
        a = [x.value if isinstance(x, Const) else values[x] for x in ins[1:]]
        if model == "reflected_no_grad" and _reflected(ins, variant):
            continue
        for pos, local in _locals(ins[0], a, values[slot], model, variant):
            target = ins[1 + pos]
            if isinstance(target, Const):
                continue
            if model == "assign_not_accumulate":
                grads[target] = local * grads[slot]
            else:
                grads[target] += local * grads[slot]
    return grads[:n]


def _no_visited(program: Program, values, flips) -> list | None:
    """Leaf gradients when the topological order is built without a visited set: a depth-first
    post-order from the root that appends a node once per path to it, children in operand order
    (reversed at the nodes whose bit in ``flips`` is set); each appearance runs that node's backward
    (``+=``). None when that order would be too long to simulate."""
    n = len(program.leaves)
    topo, stack = [], [(program.root, False)]
    while stack:
        slot, done = stack.pop()
        if done or slot < n:
            topo.append(slot)
            if len(topo) > MAX_TOPO:
                return None
            continue
        ins = program.code[slot - n]
        children = list(dict.fromkeys(a for a in ins[1:] if not isinstance(a, Const)))
        if flips.get(slot):
            children.reverse()
        stack.append((slot, True))
        stack.extend((c, False) for c in reversed(children))
    grads = [0.0] * program.n_slots
    grads[program.root] = 1.0
    for slot in reversed(topo):
        if slot < n:
            continue
        ins = program.code[slot - n]
        a = [x.value if isinstance(x, Const) else values[x] for x in ins[1:]]
        for pos, local in _locals(ins[0], a, values[slot]):
            target = ins[1 + pos]
            if not isinstance(target, Const):
                grads[target] += local * grads[slot]
    return grads[:n]


def bug_gradients(program: Program, model: str) -> list:
    """The leaf gradients ``model`` (one of BUG_MODELS) could give on ``program``: one list per
    variant or order tried; [] when the program's values are undefined."""
    values = slot_values(program)
    if any(v is None for v in values):
        return []
    try:
        if model == "pow_wrong_exponent":
            return [_backprop(program, values, model, v) for v in range(4)]
        if model == "reflected_no_grad":
            return [_backprop(program, values, model, v) for v in range(2)]
        if model == "topo_no_visited":
            n = len(program.leaves)
            forks = [
                n + k for k, ins in enumerate(program.code) if len({a for a in ins[1:] if not isinstance(a, Const)}) > 1
            ]
            if 2 ** len(forks) > MAX_ORDERS:
                forks = forks[:0]  # too many orders: operand order, and every fork reversed
                orders = [{}, {n + k: True for k in range(len(program.code))}]
            else:
                orders = [dict(zip(forks, bits)) for bits in itertools.product((False, True), repeat=len(forks))]
            out = [_no_visited(program, values, flips) for flips in orders]
            return [g for g in out if g is not None]
        if model in BUG_MODELS:
            return [_backprop(program, values, model)]
    except (ArithmeticError, ValueError, TypeError):
        return []
    raise ValueError(f"unknown bug model {model!r}; expected one of {', '.join(BUG_MODELS)}")


def finite(grads) -> bool:
    return all(math.isfinite(g) for g in grads)
