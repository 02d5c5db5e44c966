"""Random scalar programs from Hypothesis, over an engine's declared operators and methods, and their
one-step simplifications (the shrinking of a failing one).

Random graphs alone rarely expose ``=`` instead of ``+=`` (a Value must be used twice for it to show),
so the strategy favours reuse: an operand is often a slot already used, and some instructions are
``(a op b) + a + b`` at once. Values are drawn on a coarse grid (two decimals) and programs kept only
where grading is fair (``program.in_domain``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from .program import Const, Program, in_domain

__all__ = ["programs", "simpler"]

NAMES = ("x", "y", "z")
MAX_INSTRUCTIONS = 7
CONSTANTS = (2, 3, -1.5, 0.5)
BINARY = ("add", "sub", "mul", "div")


@st.composite
def programs(draw, operators: tuple, methods: tuple, exponents: tuple, domain: tuple = (-2.0, 2.0)):
    """A random program over ``operators`` and ``methods`` (an engine's declaration), its leaves in
    ``domain`` (lo, hi). Shrinks towards fewer instructions and leaves."""
    names = NAMES[: draw(st.integers(1, len(NAMES)))]
    lo, hi = domain
    leaves = tuple(round(draw(st.floats(lo, hi, allow_nan=False, width=32)), 2) for _ in names)
    binary = [o for o in operators if o in BINARY]
    kinds = [("binary", o) for o in binary] + [("method", m) for m in methods]
    kinds += [("pow", "pow")] if "pow" in operators and exponents else []
    kinds += [("neg", "neg")] if "neg" in operators else []
    kinds += [("reuse", o) for o in binary if "add" in operators]
    code, used = [], []

    def operand(n_slots):
        choice = draw(st.integers(0, 3))
        if choice == 0 and used:  # a slot already used: reuse
            return draw(st.sampled_from(used))
        if choice == 1:  # the latest slot: depth
            return n_slots - 1
        return draw(st.integers(0, n_slots - 1))

    for _ in range(draw(st.integers(1, MAX_INSTRUCTIONS))):
        n_slots = len(names) + len(code)
        kind, op = draw(st.sampled_from(kinds))
        a = operand(n_slots)
        if kind == "binary":
            side = draw(st.integers(0, 2))  # Value op Value, Value op number, number op Value
            b = operand(n_slots) if side == 0 else Const(draw(st.sampled_from(CONSTANTS)))
            code.append((op, a, b) if side < 2 else (op, b, a))
            used += [x for x in (a, b) if isinstance(x, int)]
        elif kind == "reuse":  # (a op b) + a + b
            b = operand(n_slots)
            code += [(op, a, b), ("add", n_slots, a), ("add", n_slots + 1, b)]
            used += [a, b]
        elif kind == "pow":
            code.append(("pow", a, Const(draw(st.sampled_from(exponents)))))
            used.append(a)
        else:
            code.append((op, a))
            used.append(a)
    return Program(tuple(names), leaves, tuple(code))


def _complexity(program: Program):
    return (len(program.code), len(program.leaves), sum(len(f"{v:g}") for v in program.leaves))


def complexity(program: Program):
    """What the shrinker minimises: instructions, then leaves, then the digits of the values."""
    return _complexity(program)


def _reaching(program: Program) -> set:
    n = len(program.leaves)
    seen, stack = set(), [program.root]
    while stack:
        s = stack.pop()
        if s not in seen:
            seen.add(s)
            if s >= n:
                stack.extend(a for a in program.code[s - n][1:] if isinstance(a, int))
    return seen


def _without(program: Program, drop: set, remap=None) -> Program:
    """``program`` without the slots in ``drop`` (which nothing kept reads, after ``remap``: slot ->
    the slot read instead), renumbered; its root is its last slot."""
    remap = remap or {}
    n = len(program.leaves)
    new_index, names, leaves, code = {}, [], [], []
    for s in range(n):
        if s not in drop:
            new_index[s] = len(names)
            names.append(program.names[s])
            leaves.append(program.leaves[s])
    for k, ins in enumerate(program.code):
        s = n + k
        if s in drop:
            continue
        args = [a if isinstance(a, Const) else new_index[remap.get(a, a)] for a in ins[1:]]
        new_index[s] = len(names) + len(code)
        code.append((ins[0], *args))
    return Program(tuple(names), tuple(leaves), tuple(code))


def simpler(program: Program) -> list:
    """Every one-step simplification of a program that stays fair to grade: an earlier slot as the
    output, an instruction bypassed (its readers read one of its operands), what does not reach the
    output dropped, rounder leaf values."""
    n = len(program.leaves)
    out = []
    for k in range(len(program.code) - 1):  # an earlier instruction as the output
        cut = Program(program.names, program.leaves, program.code[: k + 1])
        out.append(_without(cut, set(range(n + k + 1)) - _reaching(cut)))
    for k, ins in enumerate(program.code[:-1]):  # an instruction bypassed
        for src in dict.fromkeys(a for a in ins[1:] if isinstance(a, int)):
            bypassed = _without(program, {n + k}, {n + k: src})
            out.append(_without(bypassed, set(range(bypassed.n_slots)) - _reaching(bypassed)))
    unreached = set(range(program.n_slots)) - _reaching(program)
    if unreached and len(unreached & set(range(n))) < n:
        out.append(_without(program, unreached))
    for decimals in (1, 0):
        rounder = program.at(round(v, decimals) + 0.0 for v in program.leaves)
        if _complexity(rounder) < _complexity(program):
            out.append(rounder)
    return [p for p in out if p.code and p.leaves and in_domain(p)]
