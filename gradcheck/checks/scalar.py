"""Checks of a scalar autograd engine (a ``scalar_engine`` unit: micrograd's ``Value``).

Check ids ``<unit id>.<name>``, each made from the declaration:

- one per declared operator and method (``add``, ``sub``, ``mul``, ``div``, ``pow``, ``neg``, ``exp``,
  ``tanh``, ``relu``, ...): its value and local gradient, with Values and plain numbers on either
  side (``x + y``, ``x + 2``, ``1.5 + x``; ``x ** e`` for every declared exponent; ``x.relu()`` on
  both sides of the kink);
- ``accumulation``: a Value used several times (``x * x``, ``x + x``, ``(x op y) + x + y``, a shared
  intermediate squared): its gradient is the sum of every use's;
- ``dag``: backward on DAGs with shared subexpressions; and on DAGs whose every level uses the level
  before twice, deeper and deeper within a time budget: a topological sort without a visited set
  takes time exponential in the depth, and is stopped there (a timeout with that hint);
- ``deep_chain``: backward through a chain as long as the unit's ``depth`` (the default stays below
  Python's recursion limit: a recursive topological sort, as in micrograd, is correct);
- ``rerun``: every leaf's grad set to 0, the same expression built again from the same leaves and
  backward called again: the same gradients (a fresh forward after zeroing; calling ``backward()``
  twice on one graph adds again in every correct engine, and is never asked);
- ``random_expressions``: random programs from Hypothesis over the declared operators (favouring
  Values used several times), judged against the reference and against centered differences of the
  student's own forward; a failure is shrunk to a small formula.

Every program is built through the student's own class in the worker (``ops.op_scalar``), run
``RUNS`` times from fresh leaves made in other orders and at other addresses: a check fails when any
run is wrong, so an engine whose gradients depend on the iteration order of a set fails the same
way whatever run this is. The reference's numbers come from the assignment's reference engine, in
this process. Diagnoses: the unit's declared ``bugs`` (models of ``gradcheck.scalar.bugs``), then
the generic ones (wrong sign, a factor 2).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

import numpy as np
from hypothesis import assume, given
from hypothesis import seed as hypothesis_seed

from .. import numerics
from ..diagnosis import diagnose
from ..errors import AssignmentError
from ..scalar import bugs as scalar_bugs
from ..scalar.program import Const, Program, domain_problem, reference_run
from ..scalar.strategies import complexity, programs, simpler
from ..units import SCALAR_ASPECTS, Unit
from . import messages
from .cases import CASE_TRIES, UnitProblem, draw
from .common import CallFailed, CheckResult, StudentError, call, compare, numerical_verdict, seeded_rng, value
from .context import Context
from .graph import _no_local_constants, _settings

RUNS = 3  #: runs of every program (fresh leaves, other orders and addresses): any wrong one fails
DAG_LEVELS = tuple(range(4, 26, 2))  #: depths of the doubling DAGs, run in order within the budget
DAG_BUDGET = 1.0  #: seconds the doubling DAGs may take in all (a correct engine needs milliseconds)
MAX_SHRINK_ROUNDS = 16
FLOAT_CONSTANTS = (1.5, -0.5, 2.5, -1.25)


# ------------------------------------------------------------------------------- programs


def _leaf(rng, unit: Unit) -> float:
    domain = unit.inputs[0].domain if unit.inputs else None
    if domain is None:
        return round(float(rng.uniform(-2.0, 2.0)), 3)
    return round(float(draw(rng, domain, (), {})), 3)


def _fair(rng, unit: Unit, make, what: str) -> Program:
    """``make(leaf drawer)`` drawn again until the program is fair to grade (program.domain_problem)."""
    for _ in range(CASE_TRIES):
        program = make(lambda: _leaf(rng, unit))
        if domain_problem(program) is None:
            return program
    raise UnitProblem("inputs", f"no draw of {what} in {CASE_TRIES} was fair to grade ({domain_problem(program)})")


def _p(names, code, label=""):
    """A program maker: leaves named ``names`` drawn by the drawer, instructions ``code``."""
    return lambda leaf: Program(tuple(names), tuple(leaf() for _ in names), tuple(code), label=label)


def operator_programs(unit: Unit, name: str, rng) -> list:
    """The programs of one operator's or method's check (see the module docstring)."""
    ints = (2, 3)
    floats = FLOAT_CONSTANTS
    c_int, c_float = int(rng.choice(ints)), float(rng.choice(floats))
    makers = []
    if name in ("add", "sub", "mul", "div"):
        makers = [
            _p("xy", [(name, 0, 1)]),
            _p("x", [(name, 0, Const(c_int))]),
            _p("x", [(name, 0, Const(c_float))]),
            _p("x", [(name, Const(c_int), 0)]),
            _p("x", [(name, Const(c_float), 0)]),
        ]
    elif name == "pow":
        makers = [_p("x", [("pow", 0, Const(e))]) for e in unit.scalar.exponents]
    elif name == "neg":
        makers = [_p("x", [("neg", 0)]), _p("x", [("neg", 0)])]
    else:  # a method, on two values (relu: one on each side of its kink)
        makers = [_p("x", [(name, 0)]), _p("x", [(name, 0)])]
    out = [_fair(rng, unit, m, f"{unit.name}.{name}'s case {k}") for k, m in enumerate(makers)]
    if name == "relu" and len(out) == 2:  # one input on each side of the kink
        out = [out[0].at([abs(out[0].leaves[0]) or 0.5]), out[1].at([-abs(out[1].leaves[0]) or -0.5])]
    return out


def _has(unit: Unit, *names) -> bool:
    declared = set(unit.scalar.operators) | set(unit.scalar.methods)
    return all(n in declared for n in names)


def accumulation_programs(unit: Unit, rng) -> list:
    """Values used several times: their gradient is the sum of every use's."""
    makers = []
    for op in ("mul", "add", "sub", "div"):
        if _has(unit, op):
            makers.append(
                _p("x", [(op, 0, 0), ("add", 1, 0)] if op in ("sub", "div") and _has(unit, "add") else [(op, 0, 0)])
            )
            if _has(unit, "add"):
                makers.append(_p("xy", [(op, 0, 1), ("add", 2, 0), ("add", 3, 1)]))  # (x op y) + x + y
    if _has(unit, "mul", "add"):
        makers.append(_p("xy", [("add", 0, 1), ("mul", 2, 2)]))  # t = x + y; t * t
        makers.append(_p("x", [("mul", 0, 0), ("mul", 1, 0)]))  # x * x * x
    for m in unit.scalar.methods:
        if _has(unit, "mul"):
            makers.append(_p("x", [(m, 0), ("mul", 1, 0)]))  # x.m() * x
    if _has(unit, "pow", "add") and unit.scalar.exponents:
        makers.append(_p("x", [("pow", 0, Const(unit.scalar.exponents[0])), ("add", 1, 0)]))  # x ** n + x
    return [_fair(rng, unit, m, f"{unit.name}'s accumulation case {k}") for k, m in enumerate(makers)]


def dag_programs(unit: Unit, rng) -> list:
    """DAGs with shared subexpressions at several depths, from the declared add, mul and methods
    (operators every engine builds as one node each)."""
    if not _has(unit, "add", "mul"):
        return []
    m = next((x for x in ("tanh", "exp", "sigmoid") if x in unit.scalar.methods), None)
    makers = [
        # t = x*y; u = t + x; f = t*u + t
        _p("xy", [("mul", 0, 1), ("add", 2, 0), ("mul", 2, 3), ("add", 4, 2)]),
        # a = x + y; b = a*x; c = a*b; f = b + c
        _p("xy", [("add", 0, 1), ("mul", 2, 0), ("mul", 2, 3), ("add", 3, 4)]),
        # q = x*y; f = q*2 + q*3 (q reached by two paths)
        _p("xy", [("mul", 0, 1), ("mul", 2, Const(2)), ("mul", 2, Const(3)), ("add", 3, 4)]),
        # a diamond two levels deep: t = x*y; a = t*x, b = t*y; c = a + b; d = c*t; f = d + a
        _p(
            "xyz",
            [("mul", 0, 1), ("mul", 3, 0), ("mul", 3, 1), ("add", 4, 5), ("mul", 6, 3), ("add", 7, 4), ("mul", 8, 2)],
        ),
    ]
    if m:  # a method on a shared node: s = m(x*y); f = s*x + s*y + s
        makers.append(_p("xy", [("mul", 0, 1), (m, 2), ("mul", 3, 0), ("mul", 3, 1), ("add", 4, 5), ("add", 6, 3)]))
    # every shared node's grad is read too: gradients taken from the leaves alone (finite differences
    # of the leaves, tests/hostile/mg_finite_differences) leave them 0
    return [replace(_fair(rng, unit, mk, f"{unit.name}'s DAG case {k}"), inner=True) for k, mk in enumerate(makers)]


def doubling_dag(levels: int, x: float) -> Program:
    """s = x; then ``levels`` times: s = s*0.5 + s*0.5 (two nodes read s: the paths to x double at
    every level, the nodes grow by three). The value stays x, the gradient 1."""
    code, s = [], 0
    for _ in range(levels):
        code += [("mul", s, Const(0.5)), ("mul", s, Const(0.5)), ("add", s + 1, s + 2)]
        s += 3
    return Program(("x",), (x,), tuple(code), label=f"a DAG of {levels} levels, each reading the one before twice")


def deep_chain(unit: Unit, rng) -> Program:
    """A chain of ``depth`` instructions from one leaf, no Value used twice (the accumulation check's
    business): s = y, then in turn s = s * 1.25, s = s * 0.8, s = s + 0.1, so that the gradient stays 1
    however long the chain. Without add and mul, the first declared method, over and over."""
    depth = unit.scalar.depth
    y = round(float(rng.uniform(-1, 1)), 3)
    label = f"a chain of {depth} operations"
    if _has(unit, "add", "mul"):
        steps = (("mul", Const(1.25)), ("mul", Const(0.8)), ("add", Const(0.1)))
        code = tuple((steps[k % 3][0], k, steps[k % 3][1]) for k in range(depth))
        return Program(("y",), (y,), code, label=label)
    m = unit.scalar.methods[0] if unit.scalar.methods else "neg"
    return Program(("x",), (0.3,), tuple((m, k) for k in range(depth)), label=label)


def rerun_programs(unit: Unit, rng) -> list:
    """Programs built again from the same leaves, their grads set to 0 first: the first of each
    operator's, and the accumulation's. None has an intermediate Value reached by paths of different
    lengths, so that an engine whose order of work depends on a set (the dag check's failure) gives
    the same numbers on every run here."""
    out = [operator_programs(unit, op, rng)[0] for op in unit.scalar.operators + unit.scalar.methods]
    return out + accumulation_programs(unit, rng)


# ------------------------------------------------------------------------------- the plan


@dataclass
class Item:
    """One program of one check: what the worker runs and what the reference gives."""

    aspect: str
    program: Program
    truth: object  # program.Truth
    rerun: bool = False


@dataclass
class ScalarPlan:
    """A scalar engine's programs and the reference's numbers on them. Depends only on the seed and
    the unit: a grader process makes it once per seed (``scalar_plan``)."""

    unit: Unit
    items: list = field(default_factory=list)
    chain: Item | None = None
    dags: list = field(default_factory=list)  # (levels, Item) of the doubling DAGs


def _truth(cls, program: Program, what: str):
    try:
        return reference_run(cls, program)
    except Exception as exc:  # the instructor's engine: its failure is the assignment's
        raise UnitProblem(
            "name", f"the reference's {what} on {program.shown()} raised {type(exc).__name__}: {exc}"
        ) from exc


@functools.lru_cache(maxsize=16)
def scalar_plan(seed: int, unit: Unit, cls) -> ScalarPlan:
    rng = seeded_rng(seed, unit.id)
    plan = ScalarPlan(unit)
    for name in unit.scalar.operators + unit.scalar.methods:
        plan.items += [Item(name, p, _truth(cls, p, name)) for p in operator_programs(unit, name, rng)]
    plan.items += [Item("accumulation", p, _truth(cls, p, "backward")) for p in accumulation_programs(unit, rng)]
    plan.items += [Item("dag", p, _truth(cls, p, "backward")) for p in dag_programs(unit, rng)]
    plan.items += [Item("rerun", p, _truth(cls, p, "backward"), rerun=True) for p in rerun_programs(unit, rng)]
    chain = deep_chain(unit, rng)
    plan.chain = Item("deep_chain", chain, _truth(cls, chain, "backward"))
    if _has(unit, "add", "mul"):
        x = round(float(rng.uniform(0.5, 1.5)), 3)
        plan.dags = [(n, Item("dag", p, _truth(cls, p, "backward"))) for n in DAG_LEVELS for p in [doubling_dag(n, x)]]
    return plan


# ------------------------------------------------------------------------------- judging


@dataclass
class Outcome:
    """What judging one program found: None when it passed, else (status, message, details)."""

    status: str
    message: str
    details: dict = field(default_factory=dict)


#: A rerun program whose first backward is already wrong: not judged here (the other checks say so).
SKIPPED = Outcome("skipped", "")


def _floats(entry, arrays, key):
    return value(entry[key], arrays)[0].reshape(-1)


def judge_program(unit: Unit, item: Item, reply, arrays, tolerances) -> Outcome | None:
    """Every run of one program against the reference (any wrong run fails; runs that differ from one
    another are said to)."""
    program = item.program
    if "error" in reply and "runs" not in reply:
        return Outcome("error", f"{program.shown()}: {reply['error']}")
    first, results, skipped = None, [], 0
    for r, run in enumerate(reply["runs"]):
        got = _judge_run(unit, item, run, arrays, tolerances)
        results.append(got[1])
        if got[0] is SKIPPED:
            skipped += 1
        elif got[0] is not None and first is None:
            first = (r, got[0])
    if first is None:
        return SKIPPED if skipped else None
    r, outcome = first
    seen = [x for x in results if x is not None]
    if len(seen) > 1 and any(not _same(seen[0], x) for x in seen[1:]):
        outcome.message += (
            f" (run {r + 1} of {len(results)}: the same expression built again gives other numbers; does the "
            "order of a set of Values decide what backward does?)"
        )
        outcome.details["varies_between_runs"] = True
        outcome.details.setdefault(
            "diagnosis", "the result depends on the order in which Values are visited (e.g. iterating a set)"
        )
    elif r > 0:
        outcome.message += f" (run {r + 1} of {len(results)}; the runs before it were right)"
    return outcome


def _same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a, b))


def _judge_run(unit: Unit, item: Item, run, arrays, tolerances):
    """(Outcome or None, the run's numbers (for telling runs apart) or None)."""
    program, truth = item.program, item.truth
    where = program.shown()
    if "error" in run and "data" not in run:
        status = "error"
        message = f"{run.get('where', 'running')}: {run['error']} ({where})"
        if "RecursionError" in run["error"]:
            message += "; a recursive topological sort hits Python's recursion limit on this graph"
        return Outcome(status, message), None
    try:
        data = _floats(run, arrays, "data")
    except StudentError as exc:
        return Outcome("error", f"the result's data: {exc} ({where})"), None
    numbers = [data]
    bad = compare(data, np.array(truth.data), tolerances)
    if bad:
        details = {"counterexample": f"{where}: f expected {truth.data[0]:.6g}, got {_first(data)}"}
        return Outcome("fail", f"{where}: f (its data) is {bad.message}", details), numbers
    keys = ["grads"] + (["rerun"] if item.rerun else [])
    for key in keys:
        if key not in run:
            text = run.get("error", "no gradients were read")
            return Outcome("error", f"{run.get('where', 'backward()')}: {text} ({where})"), numbers
        try:
            grads = _floats(run, arrays, key)
        except StudentError as exc:
            return Outcome("error", f"a leaf's grad: {exc} ({where})"), numbers
        numbers.append(grads)
        expected = np.array(truth.grads)
        if grads.shape != expected.shape:
            return _wrong_grads(unit, program, grads, expected, None), numbers  # says how many were read
        n = len(program.leaves)  # the leaves' grads first (their diagnosis), then the inner slots'
        bad = compare(grads[:n], expected[:n], tolerances)
        if bad and item.rerun and key == "grads":
            return SKIPPED, numbers  # the first backward is wrong already: the other checks' failure
        if bad:
            return _wrong_grads(unit, program, grads[:n], expected[:n], bad, again=key == "rerun"), numbers
        bad = compare(grads[n:], expected[n:], tolerances)
        if bad:
            return _wrong_inner_grad(program, grads[n:], expected[n:], bad), numbers
    return None, numbers


def _wrong_inner_grad(program: Program, grads, expected, bad) -> Outcome:
    k = int(bad.index[0]) if bad.index else 0
    node = program.slot_text(len(program.leaves) + k)
    example = f"{program.shown()}: the grad of {node} expected {expected[k]:.6g}, got {grads[k]:.6g}"
    details = {
        "counterexample": example,
        "worst": bad.as_details(f"d({node})"),
        "diagnosis": "backward() did not set the grad of every Value f depends on (only the leaves'?): "
        "the contract asks for d f/d v in v.grad for every v, intermediate ones too",
    }
    return Outcome("fail", f"{program.shown()}: the grad of the intermediate Value {node} is {bad.message}", details)


def _first(values) -> str:
    return f"{float(values[0]):.6g}" if len(values) else "nothing"


def _wrong_grads(unit: Unit, program: Program, grads, expected, bad, again=False) -> Outcome:
    names = list(program.names)
    if grads.shape != expected.shape:
        return Outcome("fail", f"{program.shown()}: {len(grads)} gradients read, expected {len(expected)}")
    k = int(bad.index[0]) if bad.index else 0
    when = " after zeroing the leaves' grads and building it again" if again else ""
    example = f"{program.shown()}{when}: df/d{names[k]} expected {expected[k]:.6g}, got {grads[k]:.6g}"
    details = {"counterexample": example, "worst": bad.as_details(f"d{names[k]}")}
    diagnosis = diagnose_program(unit, program, grads, expected, again)
    if diagnosis:
        details["diagnosis"] = diagnosis
    outcome = Outcome("fail", f"{program.shown()}{when}: df/d{names[k]} is {bad.message}", details)
    outcome.grads = (grads, expected)
    return outcome


def _pooled_diagnosis(outcomes) -> str | None:
    """A generic pattern (wrong sign, a factor 2, zero) that explains every failing program of one
    check at once: one program's gradient is often a single number, which no pattern may be named from."""
    pairs = [o.grads for o in outcomes if o is not None and getattr(o, "grads", None) is not None]
    if len(pairs) < 2 or len(pairs) != sum(o is not None for o in outcomes):
        return None
    got = np.concatenate([g for g, _ in pairs])
    expected = np.concatenate([e for _, e in pairs])
    return diagnose([got], [expected], {})


def diagnose_program(unit: Unit, program: Program, grads, expected, again=False) -> str | None:
    """The declared bug whose gradients the student's are, else a generic pattern, else None."""
    if again and np.allclose(grads, 2 * expected, rtol=1e-6, atol=1e-12):
        return "the grads were added to what was there before: zeroing the leaves' .grad did not reset them"
    got = [np.array(g) for g in grads]
    want = [np.array(e) for e in expected]
    alternatives = {}
    for says, model in unit.bugs:
        for alt in scalar_bugs.bug_gradients(program, model):
            if scalar_bugs.finite(alt):
                alternatives.setdefault(says, [np.array(g) for g in alt])
                if diagnose(got, want, {says: [np.array(g) for g in alt]}, names=list(program.names)) == says:
                    return says
    text = diagnose(got, want, {}, names=list(program.names))
    return text


def _verdict(check_id, outcomes, compared, passed, left_out=0, failing=()) -> CheckResult:
    bad = [o for o in outcomes if o is not None]
    if bad:
        first = next((o for o in bad if o.status == "timeout"), None) or next(
            (o for o in bad if o.status == "fail"), bad[0]
        )
        details = dict(first.details)
        varied = next((o for o in bad if o.details.get("varies_between_runs")), None)
        if varied is not None and "diagnosis" not in details:
            details["diagnosis"] = varied.details["diagnosis"]
        pooled = None if "diagnosis" in details else _pooled_diagnosis(bad)
        if pooled:
            details["diagnosis"] = f"{pooled} (in every expression that fails)"
        if len(bad) > 1:
            details["failures"] = len(bad)
        return CheckResult(check_id, first.status, first.message, details)
    if not compared:
        why = f": {_left_out_text(left_out, failing)}" if left_out else ": nothing was compared"
        return CheckResult(check_id, "error", f"could not be checked{why}")
    return CheckResult(check_id, "pass", passed)


PASSED = {
    "accumulation": "a Value used several times gets the sum of every use's gradient ({n} expressions)",
    "dag": "backward on DAGs with shared subexpressions gives the reference's gradients ({n} DAGs; deep doubling "
    "DAGs in linear time)",
    "deep_chain": "backward through {label} gives the reference's gradients",
    "rerun": "the same expression built again from zeroed leaves gives the same gradients ({n} expressions)",
}


def _operator_passed(name, n) -> str:
    if name == "pow":
        what = "x ** n: its value and local gradient match the reference for every declared exponent"
    elif name in ("add", "sub", "mul", "div"):
        what = f"{name}: its value and local gradients match the reference, with Values and numbers on either side"
    elif name == "neg":
        what = "-x: its value and local gradient match the reference"
    else:
        what = f"x.{name}(): its value and local gradient match the reference"
    return f"{what} ({n} expressions, {RUNS} runs each)"


# ------------------------------------------------------------------------------- running


def run(ctx: Context, wanted: set[str]) -> dict[str, CheckResult]:
    """Results for the wanted check ids of the assignment's scalar engines."""
    results = {}
    for unit in ctx.units:
        if unit.style != "scalar_engine":
            continue
        ids = {i for i in wanted if i.rsplit(".", 1)[0] == unit.id}
        if ids:
            results.update(_run_unit(ctx, unit, {i.rsplit(".", 1)[1] for i in ids}))
    return {k: v for k, v in results.items() if k in wanted}


def _request(unit: Unit, items, **extra) -> dict:
    return {
        "op": "scalar",
        "module": unit.module,
        "cls": unit.name,
        "programs": [i.program.request(runs=RUNS, rerun=i.rerun) for i in items],
        **extra,
    }


def _run_unit(ctx: Context, unit: Unit, aspects: set) -> dict[str, CheckResult]:
    ids = {a: f"{unit.id}.{a}" for a in aspects}
    module = ctx.own_modules.get(unit.module, {})
    if not module.get("ok"):
        text = f"{unit.module}.py could not be imported: {module.get('error', f'{unit.module}.py was not found')}"
        return {i: CheckResult(i, "error", text) for i in ids.values()}
    if unit.name not in module.get("names", []):
        return {i: CheckResult(i, "missing", f"{unit.module}.py has no class {unit.name}") for i in ids.values()}
    try:
        plan = scalar_plan(ctx.seed, unit, getattr(ctx.reference(unit.module), unit.name))
    except UnitProblem as exc:
        index = ctx.units.index(unit)
        raise AssignmentError(ctx.assignment_file, [(f"units[{index}].{exc.field}", f"{unit.name}: {exc}")]) from None
    own = set(unit.scalar.operators + unit.scalar.methods)
    # every operator's programs run, wanted or not: what fails there is left out of the other checks
    items = [i for i in plan.items if i.aspect in aspects or i.aspect in own]
    outcomes = {a: [] for a in aspects}
    judged = _judged(ctx, unit, items)
    failing = {item.program.form() for item, outcome in judged if item.aspect in own and outcome is not None}
    left_out = {a: 0 for a in aspects}
    wrong_first = {a: 0 for a in aspects}
    for item, outcome in judged:
        if item.aspect not in aspects:
            continue
        if item.aspect not in own and item.program.forms() & failing:
            left_out[item.aspect] += 1  # one bug, one deduction: that operator's own check says so
            continue
        if outcome is SKIPPED:
            wrong_first[item.aspect] += 1
            continue
        outcomes[item.aspect].append(outcome)
    if "deep_chain" in aspects:
        if plan.chain.program.forms() & failing:
            left_out["deep_chain"] += 1
        else:
            outcomes["deep_chain"] = [o for _, o in _judged(ctx, unit, [plan.chain])]
    if "dag" in aspects and plan.dags:
        # run whatever the operators' checks said: a form given up on purpose must not buy the time proof
        timed = _judge_doubling(ctx, unit, plan, gradients=not plan.dags[0][1].program.forms() & failing)
        if timed is not SKIPPED:
            outcomes["dag"].append(timed)
    out = {}
    for a in aspects - {"random_expressions"}:
        count = len(outcomes[a])
        if a in SCALAR_ASPECTS:
            passed = PASSED[a].format(n=count, label=plan.chain.program.label)
        else:
            passed = _operator_passed(a, count)
        if left_out[a]:
            passed += "; " + _left_out_text(left_out[a], failing)
        if wrong_first[a]:
            passed += f"; {wrong_first[a]} left out: their first backward is already wrong (the other checks say so)"
        out[ids[a]] = _verdict(ids[a], outcomes[a], bool(outcomes[a]), passed, left_out[a], failing)
    if "random_expressions" in aspects:
        out[ids["random_expressions"]] = random_expressions(ctx, unit, failing)
    return out


def _form_text(form) -> str:
    if form[0] == "pow":
        return f"x ** {form[1]:g}"
    if len(form) == 2:
        return "-x" if form[0] == "neg" else f"x.{form[0]}()"
    names = iter("xy")
    sides = [next(names) if k == "V" else "2" for k in form[1:]]
    return f"{sides[0]} {BINARY_SIGNS[form[0]]} {sides[1]}"


BINARY_SIGNS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}


def _left_out_text(n, failing) -> str:
    forms = ", ".join(sorted(_form_text(f) for f in failing))
    return f"{n} expression{'s' if n > 1 else ''} using {forms} left out (their own checks fail)"


def _judged(ctx: Context, unit: Unit, items) -> list:
    """[(item, Outcome or None)] for ``items``, in one request; a request that fails is retried one
    check at a time, so that an operator that hangs or crashes costs only its own check."""
    if not items:
        return []
    try:
        reply, arrays = call(ctx.own, _request(unit, items))
    except CallFailed as exc:
        aspects = list(dict.fromkeys(i.aspect for i in items))
        if len(aspects) > 1:
            return [pair for a in aspects for pair in _judged(ctx, unit, [i for i in items if i.aspect == a])]
        return [
            (i, Outcome(exc.status, f"running {i.program.shown()} and the rest of this check: {exc}")) for i in items
        ]
    return [
        (item, judge_program(unit, item, rep, arrays, ctx.tolerances)) for item, rep in zip(items, reply["programs"])
    ]


def _judge_doubling(ctx: Context, unit: Unit, plan: ScalarPlan, gradients=True) -> Outcome | None:
    """The doubling DAGs, deeper and deeper within DAG_BUDGET: a topological sort without a visited
    set is stopped there (a timeout, with that hint, whatever the gradients of the shallower ones
    were); else, with ``gradients`` (no form they use fails its own check), the DAGs must give the
    reference's numbers. Their time is judged whatever the operators' checks said."""
    items = [item for _, item in plan.dags]
    request = {**_request(unit, items), "budget": DAG_BUDGET}
    for p in request["programs"]:
        p.pop("runs", None)  # one run each: a deterministic engine's time is what is measured
    try:
        reply, arrays = call(ctx.own, request)
    except CallFailed as exc:
        return Outcome(exc.status, f"backward() on {items[0].program.label} and deeper ones: {exc}")
    if any(rep.get("where") == "budget" for rep in reply["programs"]):
        # how deep it got depends on the machine's load: the message does not say (reports stay reproducible)
        return Outcome(
            "timeout",
            f"backward() on DAGs whose every level reads the level before twice ({DAG_LEVELS[0]} to "
            f"{DAG_LEVELS[-1]} levels, 3 nodes each) did not finish within {DAG_BUDGET:g} s: a correct engine "
            "takes milliseconds",
            {
                "diagnosis": "the time doubles with every level: a Value reached by several paths is visited "
                "once per path (does the topological sort keep a set of visited Values?)"
            },
        )
    if not gradients:
        return SKIPPED  # fast enough, but nothing compared: no pass from the time alone
    for (_, item), rep in zip(plan.dags, reply["programs"]):
        outcome = judge_program(unit, Item(item.aspect, item.program, item.truth), rep, arrays, ctx.tolerances)
        if outcome is not None:
            return outcome
    return None


# ------------------------------------------------------------------------------- random expressions


@functools.lru_cache(maxsize=8)
def generated_programs(seed: int, unit: Unit) -> tuple:
    """The programs Hypothesis draws from this seed over the unit's declaration (Note [Hypothesis reads
    the grader's source] in checks/graph.py: the same empty pool of local constants)."""
    spec, drawn = unit.scalar, []
    domain = unit.inputs[0].domain if unit.inputs else None
    bounds = tuple(domain.args[:2]) if domain is not None and domain.kind == "uniform" else (-2.0, 2.0)

    @hypothesis_seed(seed)
    @_settings(spec.examples)
    @given(programs(spec.operators, spec.methods, spec.exponents, bounds))
    def collect(program):
        assume(domain_problem(program) is None)
        drawn.append(program)

    with _no_local_constants():
        collect()
    return tuple(drawn)


def _truths(cls, programs_) -> list:
    out = []
    for p in programs_:
        try:
            out.append(reference_run(cls, p))
        except Exception:  # noqa: BLE001 - a program the reference cannot run is not graded
            out.append(None)
    return out


def _batch(ctx: Context, unit: Unit, cls, candidates) -> list:
    """[(complexity, Outcome with .program)] of the failing ones among ``candidates``, simplest first."""
    truths = _truths(cls, candidates)
    items = [Item("random_expressions", p, t) for p, t in zip(candidates, truths) if t is not None]
    failures = []
    for item, outcome in _judged(ctx, unit, items):
        if outcome is not None:
            outcome.details["program"] = item.program
            failures.append((complexity(item.program), outcome))
    return sorted(failures, key=lambda f: f[0])


def _numerical_failure(ctx: Context, unit: Unit, cls, drawn) -> Outcome | None:
    """The student's gradients (now known to be the reference's) against centered differences of
    their own forward: every program's points in one request (the first failing one reported)."""
    plans, reqs = [], []
    for k, program in enumerate(drawn):
        plan = numerics.plan_check(
            [np.array(v) for v in program.leaves], mode="full", rng=ctx.rng(f"{unit.id}.random.numerical.{k}")
        )
        plans.append(plan)
        reqs += [program.at([float(x) for x in point]).request(backward=False) for point in plan.points]
    try:
        reply, arrays = call(ctx.own, {"op": "scalar", "module": unit.module, "cls": unit.name, "programs": reqs})
    except CallFailed as exc:
        return Outcome(exc.status, f"evaluating your expressions near their values for centered differences: {exc}")
    replies, at, judged = reply["programs"], 0, 0
    for k, (program, plan) in enumerate(zip(drawn, plans)):
        mine = replies[at : at + len(plan.points)]
        at += len(plan.points)
        try:
            outputs = [np.asarray(_floats(r["runs"][0], arrays, "data")[0]) for r in mine]
        except (StudentError, KeyError, IndexError) as exc:
            return Outcome("error", f"{program.shown()}: evaluating near its values: {exc}")
        truth = reference_run(cls, program)
        grads = [np.asarray(g) for g in truth.grads]
        failed = numerical_verdict(
            numerics,
            plan,
            outputs,
            grads,
            grads,
            np.array(1.0),
            mode="full",
            f_batch=_remote_forward(ctx, unit, program),
            what="forward",
            tolerances=ctx.tolerances,
            rng=lambda salt, k=k: ctx.rng(f"{unit.id}.random.numerical.redo.{k}.{salt}"),
        )
        if failed and failed[0].startswith(INCONCLUSIVE):
            continue  # Note [Inconclusive differences of a scalar program]
        if failed:
            return Outcome("fail", f"{program.shown()}: {failed[0]}", failed[1])
        judged += 1
    if not judged:
        return Outcome("error", "could not be checked: centered differences were inconclusive on every expression")
    return None


# Note [Inconclusive differences of a scalar program]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# A random program may sit where its value and first derivatives vanish together (``(x*x + x + x) ** 3``
# at x = -2, ``x.tanh() ** 3`` at 0): the differences of any forward, the reference's too, cannot tell
# a slope there from roundoff, and numerics calls the point inconclusive (seeds 10 and 28 of 100 failed
# the reference that way). Such a program is left out of the differences (its values and gradients were
# compared with the reference's already); the check needs at least one program they judged.
INCONCLUSIVE = messages.not_smooth("forward", "")[:40]


def _remote_forward(ctx: Context, unit: Unit, program: Program):
    def f_batch(points):
        reqs = [program.at([float(x) for x in point]).request(backward=False) for point in points]
        try:
            reply, arrays = call(ctx.own, {"op": "scalar", "module": unit.module, "cls": unit.name, "programs": reqs})
            return [np.asarray(_floats(r["runs"][0], arrays, "data")[0]) for r in reply["programs"]]
        except (CallFailed, StudentError, KeyError, IndexError) as exc:
            raise ValueError(f"evaluating your expression for centered differences: {exc}") from None

    return f_batch


def random_expressions(ctx: Context, unit: Unit, failing=frozenset()) -> CheckResult:
    check_id = f"{unit.id}.random_expressions"
    generated = generated_programs(ctx.seed, unit)
    if not generated:
        return CheckResult(check_id, "error", "could not be checked: no random expression was generated")
    drawn = tuple(p for p in generated if not p.forms() & failing)
    note = "; " + _left_out_text(len(generated) - len(drawn), failing) if len(drawn) < len(generated) else ""
    if not drawn:
        return CheckResult(check_id, "error", f"could not be checked{note}")
    cls = getattr(ctx.reference(unit.module), unit.name)
    failures = _batch(ctx, unit, cls, list(drawn))
    if failures:
        outcome = failures[0][1]
        if ctx.shrink and outcome.status == "fail":
            outcome = _shrink(ctx, unit, cls, outcome, failing)
        details = {k: v for k, v in outcome.details.items() if k != "program"}
        return CheckResult(check_id, outcome.status, f"minimal failing expression: {outcome.message}", details)
    numerical = _numerical_failure(ctx, unit, cls, drawn)
    if numerical is not None:
        return CheckResult(check_id, numerical.status, numerical.message, numerical.details)
    return CheckResult(
        check_id,
        "pass",
        f"{len(drawn)} random expressions give the reference's values and gradients, and their gradients agree "
        f"with centered differences of your forward{note}",
    )


def _shrink(ctx: Context, unit: Unit, cls, failure: Outcome, failing=frozenset()) -> Outcome:
    """A failing program made as simple as it stays failing (one request per round, every one-step
    simplification in it)."""
    for _ in range(MAX_SHRINK_ROUNDS):
        candidates = [p for p in simpler(failure.details["program"]) if not p.forms() & failing]
        if not candidates:
            break
        try:
            failures = _batch(ctx, unit, cls, candidates)
        except CallFailed:
            break
        failures = [f for f in failures if f[1].status == "fail"]
        if not failures:
            break
        failure = failures[0][1]
    return failure
