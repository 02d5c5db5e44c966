"""A scalar program: leaves and instructions as plain data (Note [Scalar programs] in the worker's ops).

``Program`` is what the grader draws and judges: named leaves with their values, and instructions,
each making one new slot from earlier slots or plain numbers (``Const``). The same program is run in
the worker through the student's ``Value`` class (``request``) and here through the reference's
(``reference_run``: trusted code, never in a worker); ``formula`` says it as a student reads it.
"""

from __future__ import annotations

import contextlib
import math
import sys
from dataclasses import dataclass, field, replace

__all__ = ["Const", "Program", "domain_problem", "in_domain", "reference_run", "slot_values"]

#: Instructions the grader knows: binary operators, unary minus, methods.
BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
UNARY = ("neg",)
METHODS = ("exp", "tanh", "relu", "sigmoid", "log")
MAX_SHOWN = 40  #: instructions of a program shown whole in a message; a longer one by its label
#: Precedence of the operators, for the fewest parentheses in a formula.
_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "pow": 4}


@dataclass(frozen=True)
class Const:
    """A plain number on one side of an operator (``2 * x``, ``x ** 3``): int or float as declared."""

    value: float

    def text(self) -> str:
        v = self.value
        return str(v) if isinstance(v, int) else f"{v:.4g}"


@dataclass(frozen=True)
class Program:
    """Leaves (``names``, ``leaves``: their values) and ``code``: instructions ``(name, a)`` or
    ``(name, a, b)``, an operand being a slot index (leaves first, then one slot per instruction) or a
    Const. ``backward``: the slot ``backward()`` is called on (default: the last); ``label``: what a
    fixed program is called in messages."""

    names: tuple
    leaves: tuple
    code: tuple = ()
    backward: int | None = None
    label: str = ""
    out: tuple | None = None  #: the slots whose data is read (default: the one backward is called on)
    #: the grads of every slot are read, not only the leaves': backward() sets the grad of every Value
    #: the root depends on (the contract), which gradients taken from the leaves alone do not
    inner: bool = False

    @property
    def n_slots(self) -> int:
        return len(self.leaves) + len(self.code)

    @property
    def root(self) -> int:
        return self.n_slots - 1 if self.backward is None else self.backward

    @property
    def outputs(self) -> tuple:
        return (self.root,) if self.out is None else self.out

    def at(self, leaves) -> Program:
        """The same program at other leaf values."""
        return replace(self, leaves=tuple(float(v) for v in leaves))

    def request(self, *, runs=1, backward=True, rerun=False) -> dict:
        """What the worker runs (ops.op_scalar): with ``backward``, the leaves' grads are read (every
        slot's, with ``inner``)."""
        out = {
            "leaves": [float(v) for v in self.leaves],
            "code": [[ins[0], *(_operand(a) for a in ins[1:])] for ins in self.code],
            "out": list(self.outputs),
        }
        if backward:
            out.update(backward=self.root, grads=list(range(self.n_slots if self.inner else len(self.leaves))))
        if runs > 1:
            out["runs"] = runs
        if rerun:
            out["rerun"] = True
        return out

    def uses(self) -> list:
        """How many times each slot is an operand."""
        count = [0] * self.n_slots
        for ins in self.code:
            for a in ins[1:]:
                if isinstance(a, int):
                    count[a] += 1
        return count

    def formula(self) -> str:
        """The program as a student reads it: ``f(x, y) = (x*y + x) + y``; a slot used more than once
        (a shared subexpression) is named: ``t1 = x*y; f(x, y) = t1*t1 + x``."""
        return self._texts()[1]

    def slot_text(self, slot: int) -> str:
        """How ``formula`` writes slot ``slot``: a leaf's name, a shared node's t<k>, else its expression."""
        return self._texts()[0][slot]

    def _texts(self):
        uses = self.uses()
        text, lines, k = list(self.names), [], 0
        prec = [9] * len(self.names)
        for i, ins in enumerate(self.code):
            slot = len(self.names) + i
            body, p = _render(ins, text, prec)
            if uses[slot] > 1 and slot != self.root:
                k += 1
                lines.append(f"t{k} = {body}")
                text.append(f"t{k}")
                prec.append(9)
            else:
                text.append(body)
                prec.append(p)
        lines.append(f"f({', '.join(self.names)}) = {text[self.root]}")
        return text, "; ".join(lines)

    def values_text(self) -> str:
        return ", ".join(f"{n}={_num(v)}" for n, v in zip(self.names, self.leaves))

    def shown(self) -> str:
        """The formula and the leaves' values: what a message shows (a long program by its label and
        its first instructions)."""
        if len(self.code) > MAX_SHOWN and self.label:
            head = Program(self.names, self.leaves, self.code[:4], backward=None)
            return f"{self.label} ({head.formula()}, ...) at {self.values_text()}"
        return f"{self.formula()} at {self.values_text()}"

    def form(self, k: int = 0) -> tuple:
        """Instruction k's form: its name and the kind of each operand ("V" a Value, "c" a number; a
        power's exponent itself): what an operator's own check judged (``x + 2`` is ("add", "V", "c"))."""
        ins = self.code[k]
        if ins[0] == "pow":
            return ("pow", ins[2].value)
        return (ins[0], *("c" if isinstance(a, Const) else "V" for a in ins[1:]))

    def forms(self) -> set:
        return {self.form(k) for k in range(len(self.code))}


def _operand(a):
    return {"c": a.value} if isinstance(a, Const) else int(a)


def _num(v) -> str:
    return f"{float(v):.4g}"


def _render(ins, text, prec):
    name, args = ins[0], ins[1:]

    def side(a, need):
        if isinstance(a, Const):
            t = a.text()
            return f"({t})" if t.startswith("-") else t
        return f"({text[a]})" if prec[a] < need else text[a]

    if name in BINARY:
        p = _PRECEDENCE[name]
        right_need = p + 1 if name in ("sub", "div") else (p + 1 if name == "pow" else p)
        left_need = p + 1 if name == "pow" else p
        return f"{side(args[0], left_need)} {BINARY[name]} {side(args[1], right_need)}", p
    if name == "neg":
        return f"-{side(args[0], _PRECEDENCE['neg'])}", _PRECEDENCE["neg"]
    return f"{side(args[0], 9)}.{name}()", 9


# --------------------------------------------------------------------------- the reference


@contextlib.contextmanager
def _recursion_limit(need: int):
    """Python's recursion limit raised for the reference's own (possibly recursive) topological sort
    on a deep program, and put back after."""
    old = sys.getrecursionlimit()
    if need > old:
        sys.setrecursionlimit(need)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def build(cls, program: Program, leaves=None):
    """The program's slots built with ``cls`` (the reference's Value class: trusted code)."""
    slots = [cls(float(v)) for v in (program.leaves if leaves is None else leaves)]
    for ins in program.code:
        name, args = ins[0], [a.value if isinstance(a, Const) else slots[a] for a in ins[1:]]
        if name == "add":
            v = args[0] + args[1]
        elif name == "sub":
            v = args[0] - args[1]
        elif name == "mul":
            v = args[0] * args[1]
        elif name == "div":
            v = args[0] / args[1]
        elif name == "pow":
            v = args[0] ** args[1]
        elif name == "neg":
            v = -args[0]
        else:
            v = getattr(args[0], name)()
        slots.append(v)
    return slots


@dataclass(frozen=True)
class Truth:
    """The reference's numbers for a program: the data of its outputs, every leaf's grad (after
    ``backward()`` on its root; every slot's, leaves first, for a program with ``inner``), and every
    slot's data (for the domain rules)."""

    data: tuple
    grads: tuple
    slots: tuple = field(default=(), repr=False)


def reference_run(cls, program: Program) -> Truth:
    """The program run through the reference's Value class ``cls``, in this process (trusted)."""
    with _recursion_limit(4 * program.n_slots + 1000):
        slots = build(cls, program)
        slots[program.root].backward()
    return Truth(
        tuple(float(slots[i].data) for i in program.outputs),
        tuple(float(s.grad) for s in (slots if program.inner else slots[: len(program.leaves)])),
        tuple(float(s.data) for s in slots),
    )


def slot_values(program: Program) -> list:
    """Every slot's value, computed from the math here (plain floats; for the domain rules while drawing,
    before any reference is asked): None where an operation is undefined."""
    values = [float(v) for v in program.leaves]
    for ins in program.code:
        a = [x.value if isinstance(x, Const) else values[x] for x in ins[1:]]
        try:
            values.append(_apply(ins[0], a) if None not in a else None)
        except (ArithmeticError, ValueError):
            values.append(None)
    return values


def _apply(name, a):
    if name == "add":
        return a[0] + a[1]
    if name == "sub":
        return a[0] - a[1]
    if name == "mul":
        return a[0] * a[1]
    if name == "div":
        return a[0] / a[1]
    if name == "pow":
        out = a[0] ** a[1]
        if isinstance(out, complex):
            raise ValueError("complex power")
        return float(out)
    if name == "neg":
        return -a[0]
    if name == "exp":
        return math.exp(a[0])
    if name == "tanh":
        return math.tanh(a[0])
    if name == "relu":
        return max(a[0], 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + math.exp(-a[0]))
    if name == "log":
        return math.log(a[0])
    raise ValueError(f"unknown instruction {name!r}")


# Note [Where a scalar program is fair]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# The grader draws values where every operation is smooth and well conditioned, so that centered
# differences are meaningful and an honest engine is never failed by roundoff: no ReLU input within
# MARGIN of its kink at 0, no division by (or negative power of) a number within DENOMINATOR of 0,
# no fractional power or log of a number below POSITIVE, no exp of more than EXP_MAX, no value
# beyond LARGEST in magnitude.
MARGIN, DENOMINATOR, POSITIVE, EXP_MAX, LARGEST = 0.1, 0.2, 0.2, 4.0, 1e3


def domain_problem(program: Program) -> str | None:
    """Why the program is not fair to grade at its values (Note [Where a scalar program is fair]), or None."""
    values = slot_values(program)
    for k, ins in enumerate(program.code):
        name, a = ins[0], [x.value if isinstance(x, Const) else values[x] for x in ins[1:]]
        if None in a or values[len(program.leaves) + k] is None:
            return f"instruction {k} is undefined"
        if name == "relu" and abs(a[0]) < MARGIN:
            return f"a ReLU input within {MARGIN} of 0"
        if name == "div" and abs(a[1]) < DENOMINATOR:
            return f"a division by a number within {DENOMINATOR} of 0"
        if name == "pow":
            integral = float(a[1]).is_integer()
            if not integral and a[0] < POSITIVE:
                return f"a fractional power of a number below {POSITIVE}"
            if a[1] < 0 and abs(a[0]) < DENOMINATOR:
                return f"a negative power of a number within {DENOMINATOR} of 0"
        if name == "log" and a[0] < POSITIVE:
            return f"a log of a number below {POSITIVE}"
        if name == "exp" and a[0] > EXP_MAX:
            return f"exp of more than {EXP_MAX}"
        out = values[len(program.leaves) + k]
        if not math.isfinite(out) or abs(out) > LARGEST:
            return f"a value beyond {LARGEST:g}"
    return None


def in_domain(program: Program) -> bool:
    return domain_problem(program) is None
