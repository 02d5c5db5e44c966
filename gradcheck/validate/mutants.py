"""Automatic mutants of a reference solution's source: one student-like bug at one site each.

``mutants_of_source(source, filename)`` parses a module (``ast.parse``), finds the sites where an
operator applies, and returns one ``Mutant`` per site: a stable id (``gates.py:SigmoidGate.backward:
negate#0``: file, function, operator, the site's number among that operator's sites in that
function, in source order), a one-line description and the whole mutated module (``ast.unparse``:
comments and layout are not kept). ``mutants_of_folder(folder, modules)`` does it for every module
of a reference folder. Mutants whose source is identical to the reference's or to an earlier
mutant's, and mutants that do not compile, are dropped (``Generated.skipped`` says which and why).

Nothing here imports or runs the code it mutates (``compile`` only checks the syntax): a mutant is
student code, graded only in the sandbox.

The operators know nothing of any particular assignment: they key on the shapes of the API styles
(Note [Which functions are mutated]).
"""

# Note [Which functions are mutated]
# Functions are recognised by the words of their names (split at ``_``; a name starting with ``_`` is
# a private helper and never counts), so that every API style is covered without knowing its units:
# - *backward-like*: ``backward`` is a word (``backward``, ``affine_backward``, ``conv_backward_naive``).
#   Everything it returns is gradients: a tuple or list display (or a name last assigned one) holds
#   one gradient per item; a dict display, a dict comprehension, or a name the function fills as a
#   dict (``grads = {}``; ``grads["W1"] = ...``) holds one per entry.
# - *loss-like*: it returns a tuple ``(loss, grad, ...)``: ``loss`` is a word of its name
#   (``loss``, ``softmax_loss``, ``svm_loss_naive``) or the tuple's first item is named like a loss.
#   The items after the first are its gradients, read as above (a model's ``grads`` dict included).
# - *forward-like*: ``forward`` or ``loss`` is a word of its name.
# - *SGD-like*: ``sgd``, ``step``, ``update`` or ``train`` is a word of its name.
# The gradient operators (negate, double, zero, transpose, swap; negate and zero of dict entries)
# apply to returned gradients, ``ones_dout`` to a backward-like function's first parameter (after
# ``self``), ``overwrite`` to accumulations (``+=``; ``t = ... t + e ...``) in backward-like and
# loss-like functions, ``inplace`` to forward-like functions, ``sgd_sign`` to SGD-like ones.
# ``at_input`` pairs a class's ``forward`` and ``backward`` (or ``X_forward_Y`` and ``X_backward_Y``)
# through what forward keeps for backward: backward's reads of the attribute (or cache item) holding
# forward's output read the one holding its input instead. A class whose forward keeps its output
# but not its single input gets the line that keeps it (``self.x = x``), as the student who wrote
# that bug did; a function pair's cache must hold both (a tuple or dict display).

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OPERATORS", "Generated", "Mutant", "mutants_of_folder", "mutants_of_source"]

#: Every operator, in report order, with what it does (one line each).
OPERATORS = {
    "negate": "a returned gradient (or an entry of a dict of gradients) negated",
    "double": "a returned gradient doubled",
    "zero": "a returned gradient (or a dict entry) replaced by zeros (np.zeros_like)",
    "transpose": "a returned gradient transposed (.T; equivalent where it is 1-D or square and symmetric)",
    "swap": "two returned gradients swapped",
    "ones_dout": "the upstream gradient replaced by ones (np.ones_like(dout))",
    "inplace": "forward changes its first writable array argument in place just before returning",
    "at_input": "the derivative evaluated at the input instead of the output",
    "overwrite": "an accumulation (+=, t = t + e) replaced by an assignment (overwritten at branches)",
    "sgd_sign": "an SGD update's -= replaced by += (a step uphill)",
}

_SNIPPET = 48
_SGD_WORDS = {"sgd", "step", "update", "train"}
_KEEP_CALLS = {"asarray", "asanyarray", "array", "copy", "float", "atleast_1d", "atleast_2d", "astype"}
_NUMPY_FALLBACK = "_gc_np"


@dataclass(frozen=True)
class Mutant:
    """One mutant: the reference's module ``file`` with one change."""

    id: str  #: stable: ``<file>:<function>:<operator>#<site>``
    file: str  #: the module's file name, e.g. ``gates.py``
    function: str  #: the function changed, e.g. ``SigmoidGate.backward``
    operator: str  #: one of OPERATORS
    description: str  #: one line for people
    source: str  #: the whole mutated module


@dataclass(frozen=True)
class Generated:
    """What ``mutants_of_source``/``mutants_of_folder`` made: the mutants, and the ids dropped with why."""

    mutants: tuple = ()
    skipped: tuple = ()  #: (id, reason) pairs

    def __add__(self, other):
        return Generated(self.mutants + other.mutants, self.skipped + other.skipped)


# --- paths: where a node is, so that the same node can be found in a copy of the tree --------------


def _children(node, path):
    for name, value in ast.iter_fields(node):
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, ast.AST):
                    yield item, (*path, (name, i))
        elif isinstance(value, ast.AST):
            yield value, (*path, (name, None))


def _own(node, path):
    """(node, path) of everything inside function ``node`` that is its own code: nested functions,
    lambdas and classes are left out (their returns are not this function's)."""
    stack = list(_children(node, path))[::-1]
    while stack:
        child, p = stack.pop()
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        yield child, p
        stack.extend(list(_children(child, p))[::-1])


def _get(tree, path):
    node = tree
    for name, i in path:
        node = getattr(node, name) if i is None else getattr(node, name)[i]
    return node


def _put(tree, path, new):
    """Replace the node at ``path`` by ``new`` (a node, or a list of statements spliced in its place)."""
    parent = _get(tree, path[:-1])
    name, i = path[-1]
    if i is None:
        setattr(parent, name, new)
    elif isinstance(new, list):
        getattr(parent, name)[i : i + 1] = new
    else:
        getattr(parent, name)[i] = new


def _same(a, b) -> bool:
    """The same expression, whatever the context (a store and a load of ``grads[i]``)."""
    return _shape(a) == _shape(b)


def _shape(node):
    node = copy.deepcopy(node)
    for n in ast.walk(node):
        if hasattr(n, "ctx"):
            n.ctx = ast.Load()
    return ast.dump(node)


def _snippet(node) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= _SNIPPET else text[: _SNIPPET - 3] + "..."


def _expr(text):
    return ast.parse(text, mode="eval").body


def _stmts(text):
    return ast.parse(text).body


def _np(name, attr):
    return ast.Attribute(ast.Name(name, ast.Load()), attr, ast.Load())


def _call(func, *args):
    return ast.Call(func, list(args), [])


# --- the module's functions and what they are ------------------------------------------------------


@dataclass
class _Function:
    qual: str  #: Class.method or function
    node: ast.FunctionDef
    path: tuple
    cls: ast.ClassDef | None
    cls_path: tuple | None
    outer: _Function | None = None  #: the function a closure is defined in (None: not a closure)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def closure_backward(self) -> bool:
        """A scalar engine's ``_backward`` closure (Note [Closures of a scalar engine])."""
        return self.outer is not None and "backward" in self.name.strip("_").split("_")

    @property
    def is_method(self) -> bool:
        if self.outer is not None:
            return False
        decorators = {d.id for d in self.node.decorator_list if isinstance(d, ast.Name)}
        return self.cls is not None and "staticmethod" not in decorators

    @property
    def params(self) -> list:
        a = self.node.args
        names = [p.arg for p in (*a.posonlyargs, *a.args)]
        if self.is_method and names:
            names = names[1:]
        return names + [p.arg for p in a.kwonlyargs]

    @property
    def backward_like(self) -> bool:
        return _named(self.name, "backward")

    @property
    def forward_like(self) -> bool:
        return _named(self.name, "forward") or _named(self.name, "loss")

    @property
    def sgd_like(self) -> bool:
        return bool(_SGD_WORDS & set(self.name.lower().strip("_").split("_")))

    def own(self):
        return _own(self.node, self.path)

    def own_with_defs(self):
        """(node, path) of the function's own code and of the functions it defines (not their bodies)."""
        stack = list(_children(self.node, self.path))[::-1]
        while stack:
            child, p = stack.pop()
            if isinstance(child, ast.Lambda | ast.ClassDef | ast.AsyncFunctionDef):
                continue
            yield child, p
            if not isinstance(child, ast.FunctionDef):
                stack.extend(list(_children(child, p))[::-1])

    def returns(self):
        return [(n, p) for n, p in self.own() if isinstance(n, ast.Return)]

    def loss_returns(self):
        """The returns ``(loss, grad, ...)`` of a loss-like function (Note [Which functions are mutated])."""
        if self.backward_like:
            return []
        named = _named(self.name, "loss")
        out = []
        for ret, p in self.returns():
            v = ret.value
            if isinstance(v, ast.Tuple) and len(v.elts) >= 2:
                first = v.elts[0]
                label = first.id if isinstance(first, ast.Name) else getattr(first, "attr", "")
                if named or "loss" in label.lower():
                    out.append((ret, p))
        return out


def _named(name, word) -> bool:
    """``word`` is one of the ``_``-separated words of ``name`` (``backward``, ``affine_backward``,
    ``conv_backward_naive``), and ``name`` is not a private helper (``_forward``)."""
    return not name.startswith("_") and word in name.split("_")


def _functions(tree):
    """Every function of the module and of its classes (nested classes too), in source order."""

    def visit(body, path, prefix, cls, cls_path):
        for i, node in enumerate(body):
            p = (*path, ("body", i))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                fn = _Function(prefix + node.name, node, p, cls, cls_path)
                yield fn
                yield from _closures(fn)
            elif isinstance(node, ast.ClassDef):
                yield from visit(node.body, p, prefix + node.name + ".", node, p)

    return list(visit(tree.body, (), "", None, None))


def _closures(fn):
    """The functions defined in ``fn``'s own code whose name says backward (``_backward``), in source order."""
    for n, p in fn.own_with_defs():
        if isinstance(n, ast.FunctionDef) and "backward" in n.name.strip("_").split("_"):
            yield _Function(f"{fn.qual}.{n.name}", n, p, fn.cls, fn.cls_path, outer=fn)


def _numpy_name(tree):
    """The name numpy is imported under at the module's top level, or None."""
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "numpy":
                    return alias.asname or "numpy"
    return None


def _insert_at(body) -> int:
    """Where new statements go at the top of ``body``: after a docstring (and __future__ imports)."""
    i = 0
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        i = 1
    while i < len(body) and isinstance(body[i], ast.ImportFrom) and body[i].module == "__future__":
        i += 1
    return i


# --- gradients: what a backward-like or loss-like function returns -------------------------------


def _assigned(fn, name):
    """(value, path) of every plain ``name = value`` in the function, in source order."""
    out = []
    for n, p in fn.own():
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            out.append((n.value, (*p, ("value", None))))
    return out


def _is_dict_name(fn, name) -> bool:
    for value, _ in _assigned(fn, name):
        if isinstance(value, ast.Dict | ast.DictComp):
            return True
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
            return True
    return False


def _dict_entries(fn, node, path):
    """(value, path, label) of each entry of a gradient dict: a display's values, a comprehension's
    value, or for a name filled as a dict its ``name[key] = value`` and display entries."""
    if isinstance(node, ast.Dict):
        return [
            (v, (*path, ("values", i)), f"gradient entry {_snippet(k)}")
            for i, (k, v) in enumerate(zip(node.keys, node.values))
            if k
        ]
    if isinstance(node, ast.DictComp):
        return [(node.value, (*path, ("value", None)), f"every value of {{{_snippet(node.key)}: ...}}")]
    if isinstance(node, ast.Name):
        out = []  # in source order
        for n, p in fn.own():
            if not (isinstance(n, ast.Assign) and len(n.targets) == 1):
                continue
            target, vp = n.targets[0], (*p, ("value", None))
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == node.id:
                out.append((n.value, vp, f"gradient entry {_snippet(target)}"))
            elif isinstance(target, ast.Name) and target.id == node.id and isinstance(n.value, ast.Dict):
                out += [
                    (v, vpath, f"gradient entry {node.id}[{_snippet(k)}]")
                    for (v, vpath, _), k in zip(_dict_entries(fn, n.value, vp), [k for k in n.value.keys if k])
                ]
        return out
    return []


def _gradients(fn):
    """(arrays, entries, groups): the returned gradients as (node, path, label), the entries of
    gradient dicts as (node, path, label), and the groups of arrays returned together (for swaps),
    as lists of indices into arrays. Each site once, in source order."""
    arrays, entries, groups, seen = [], [], [], set()

    def add_items(items):
        group = []
        for node, path in items:
            if path in seen or isinstance(node, ast.Starred):
                continue
            seen.add(path)
            if _dict_valued(fn, node):
                entries.extend(e for e in _dict_entries(fn, node, path) if e[1] not in seen)
                seen.update(e[1] for e in entries)
                continue
            group.append(len(arrays))
            arrays.append((node, path, f"`{_snippet(node)}`"))
        if len(group) >= 2:
            groups.append(group)
        if len(items) >= 2:  # items of a display are numbered, as a student reads them
            numbered = {p: i for i, (_, p) in enumerate(items)}
            for k in group:
                node, path, label = arrays[k]
                arrays[k] = (node, path, f"{numbered[path]} ({label})")

    def unpacked(node, path):
        """A tuple or list display (or a name last assigned one) as its items."""
        if isinstance(node, ast.Tuple | ast.List):
            return [(e, (*path, ("elts", i))) for i, e in enumerate(node.elts)]
        if isinstance(node, ast.Name):
            shown = _assigned(fn, node.id)
            if shown and isinstance(shown[-1][0], ast.Tuple | ast.List):
                return unpacked(*shown[-1])
        return [(node, path)]

    if fn.backward_like:
        for ret, p in fn.returns():
            if ret.value is not None:
                add_items(unpacked(ret.value, (*p, ("value", None))))
    for ret, p in fn.loss_returns():
        items = [(e, (*p, ("value", None), ("elts", i))) for i, e in enumerate(ret.value.elts)][1:]
        add_items([it for node, path in items for it in unpacked(node, path)])
    return arrays, entries, groups


def _dict_valued(fn, node) -> bool:
    return isinstance(node, ast.Dict | ast.DictComp) or (isinstance(node, ast.Name) and _is_dict_name(fn, node.id))


# --- the operators: each yields (description, edit) per site; edit(tree, np_name) changes a fresh tree -


# Note [Closures of a scalar engine]
# A scalar engine (micrograd's ``Value``) keeps each operation's local derivatives in a closure made
# by the operator's method: ``def _backward(): self.grad += other.data * out.grad``. Its gradient
# terms are the values its ``X.grad += e`` (and ``X.grad -= e``) statements add: negate, double and
# zero change one term, overwrite turns one ``+=`` into ``=`` (``-=`` into ``= -(...)``), and
# at_input reads the operation's input where the closure reads its output (``out.data``, or the
# local the output was made from: ``t`` of ``out = Value(t, ...)``).


def _grad_terms(fn):
    """(statement, path, sign) of every ``X.grad += e`` / ``X.grad -= e`` in a _backward closure."""
    if not fn.closure_backward:
        return []
    out = []
    for n, p in fn.own():
        if (
            isinstance(n, ast.AugAssign)
            and isinstance(n.op, ast.Add | ast.Sub)
            and isinstance(n.target, ast.Attribute)
            and n.target.attr == "grad"
        ):
            out.append((n, p, "+" if isinstance(n.op, ast.Add) else "-"))
    return out


def _term_sites(fn, what, wrap):
    for n, p, sign in _grad_terms(fn):
        yield (
            f"{fn.qual}: the term of `{_snippet(n.target)} {sign}= ...` {what}",
            _replacer((*p, ("value", None)), wrap),
        )


def _op_negate(fn):
    yield from _term_sites(fn, "negated", lambda n: ast.UnaryOp(ast.USub(), n))
    arrays, entries, _ = _gradients(fn)
    for _, path, label in arrays:
        yield f"{fn.qual}: returned gradient {label} negated", _replacer(path, lambda n: ast.UnaryOp(ast.USub(), n))
    for _, path, label in entries:
        yield f"{fn.qual}: {label} negated", _replacer(path, lambda n: ast.UnaryOp(ast.USub(), n))


def _op_double(fn):
    yield from _term_sites(fn, "doubled", lambda n: ast.BinOp(ast.Constant(2), ast.Mult(), n))
    arrays, _, _ = _gradients(fn)
    for _, path, label in arrays:
        yield (
            f"{fn.qual}: returned gradient {label} doubled",
            _replacer(path, lambda n: ast.BinOp(ast.Constant(2), ast.Mult(), n)),
        )


def _op_zero(fn):
    yield from _term_sites(fn, "replaced by 0", lambda n: ast.Constant(0.0))
    arrays, entries, _ = _gradients(fn)
    for _, path, label in arrays:
        yield f"{fn.qual}: returned gradient {label} replaced by zeros", _np_replacer(path, "zeros_like")
    for _, path, label in entries:
        yield f"{fn.qual}: {label} replaced by zeros", _np_replacer(path, "zeros_like")


def _op_transpose(fn):
    arrays, _, _ = _gradients(fn)
    for _, path, label in arrays:
        yield f"{fn.qual}: returned gradient {label} transposed", _np_replacer(path, "transpose")


def _op_swap(fn):
    arrays, _, groups = _gradients(fn)
    for group in groups:
        for a, i in enumerate(group):
            for j in group[a + 1 :]:
                (_, pi, li), (_, pj, lj) = arrays[i], arrays[j]

                def edit(tree, np_name, pi=pi, pj=pj):
                    first, second = _get(tree, pi), _get(tree, pj)
                    _put(tree, pi, second)
                    _put(tree, pj, first)

                yield f"{fn.qual}: returned gradients {li} and {lj} swapped", edit


def _op_ones_dout(fn):
    if not fn.backward_like or not fn.params:
        return
    dout = fn.params[0]

    def edit(tree, np_name):
        body = _get(tree, fn.path).body
        body[_insert_at(body) : _insert_at(body)] = _stmts(
            f"if {dout} is not None:\n    {dout} = {np_name}.ones_like({dout})"
        )

    yield f"{fn.qual}: the upstream gradient {dout} replaced by ones", edit


def _op_inplace(fn):
    if not fn.forward_like or not fn.params:
        return
    names = ", ".join(fn.params)
    args = f"({names},)" if len(fn.params) == 1 else f"({names})"

    def change(np_name):
        return _stmts(
            f"for _gc_arg in [_gc_v for _gc_a in {args} "
            f"for _gc_v in (_gc_a.values() if isinstance(_gc_a, dict) else (_gc_a,))]:\n"
            f"    if isinstance(_gc_arg, {np_name}.ndarray) and _gc_arg.flags.writeable and _gc_arg.size "
            f"and _gc_arg.dtype.kind in 'fiu':\n"
            f"        _gc_arg += 1\n"
            f"        break"
        )

    returns = [p for _, p in fn.returns()]

    def edit(tree, np_name):
        for p in reversed(returns):  # later sites first (source order): earlier paths stay valid
            ret = _get(tree, p)
            if ret.value is None:
                _put(tree, p, [*change(np_name), ret])
            else:
                keep = ast.Assign([ast.Name("_gc_out", ast.Store())], ret.value)
                _put(tree, p, [keep, *change(np_name), ast.Return(ast.Name("_gc_out", ast.Load()))])
        if not returns:
            _get(tree, fn.path).body.extend(change(np_name))

    yield f"{fn.qual}: changes its first writable array argument ({fn.params[0]}, ...) in place before returning", edit


def _op_overwrite(fn):
    for n, p, sign in _grad_terms(fn):

        def edit(tree, np_name, p=p, sign=sign):
            old = _get(tree, p)
            new = old.value if sign == "+" else ast.UnaryOp(ast.USub(), old.value)
            _put(tree, p, ast.Assign([old.target], new))

        yield f"{fn.qual}: `{_snippet(n.target)} {sign}= ...` overwrites instead of adding", edit
    if not (fn.backward_like or fn.loss_returns()):
        return
    for n, p in fn.own():
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add):
            if isinstance(n.value, ast.Constant) and isinstance(n.value.value, int):
                continue  # a counter, not a gradient

            def edit(tree, np_name, p=p):
                old = _get(tree, p)
                _put(tree, p, ast.Assign([old.target], old.value))

            yield f"{fn.qual}: `{_snippet(n.target)} += ...` overwrites instead of adding", edit
        elif isinstance(n, ast.Assign) and len(n.targets) == 1:
            vp = (*p, ("value", None))
            for sub, sp in [(n.value, vp), *_own(n.value, vp)]:
                if isinstance(sub, ast.BinOp) and isinstance(sub.op, ast.Add):
                    for side, other in (("left", "right"), ("right", "left")):
                        if _same(getattr(sub, side), n.targets[0]):

                            def edit(tree, np_name, sp=sp, other=other):
                                _put(tree, sp, getattr(_get(tree, sp), other))

                            yield (
                                f"{fn.qual}: `{_snippet(sub)}` becomes `{_snippet(getattr(sub, other))}` "
                                "(overwritten, not added)",
                                edit,
                            )
                            break


def _op_sgd_sign(fn):
    if not fn.sgd_like:
        return
    for n, p in fn.own():
        if isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Sub):

            def edit(tree, np_name, p=p):
                _get(tree, p).op = ast.Add()

            yield f"{fn.qual}: `{_snippet(n.target)} -= ...` becomes `+=` (a step uphill)", edit
        elif (
            isinstance(n, ast.Assign)
            and len(n.targets) == 1
            and isinstance(n.value, ast.BinOp)
            and isinstance(n.value.op, ast.Sub)
            and _same(n.value.left, n.targets[0])
        ):

            def edit(tree, np_name, p=p):
                _get(tree, p).value.op = ast.Add()

            uphill = ast.BinOp(n.value.left, ast.Add(), n.value.right)
            yield f"{fn.qual}: `{_snippet(n.value)}` becomes `{_snippet(uphill)}` (a step uphill)", edit


def _replacer(path, wrap):
    def edit(tree, np_name):
        _put(tree, path, wrap(_get(tree, path)))

    return edit


def _np_replacer(path, func):
    def edit(tree, np_name):
        _put(tree, path, _call(_np(np_name, func), _get(tree, path)))

    return edit


# --- at_input: the derivative at the input instead of the output -----------------------------------


def _self_attr(node, self_name):
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == self_name:
        return node.attr
    return None


def _kept_param(value, params):
    """The parameter ``value`` keeps as it is (``x``, ``np.asarray(x, ...)``, ``x.copy()``), or None."""
    if isinstance(value, ast.Name) and value.id in params:
        return value.id
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in _KEEP_CALLS:
            if value.args and isinstance(value.args[0], ast.Name) and value.args[0].id in params:
                return value.args[0].id
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in params:
                return func.value.id
    return None


def _class_at_input(functions):
    """(function, description, edit) for each class with forward and backward: backward's reads of the
    attribute holding forward's output read the one holding its input."""
    by_class = {}
    for fn in functions:
        if fn.cls is not None and fn.is_method and fn.name in ("forward", "backward"):
            by_class.setdefault(fn.cls_path, {})[fn.name] = fn
    for pair in by_class.values():
        fwd, bwd = pair.get("forward"), pair.get("backward")
        if fwd is None or bwd is None or not fwd.node.args.args or not bwd.node.args.args:
            continue
        me_f, me_b = fwd.node.args.args[0].arg, bwd.node.args.args[0].arg
        stored = {}  # attribute -> value node, as forward assigns it (the last assignment)
        for n, _ in fwd.own():
            if isinstance(n, ast.Assign):
                for t in n.targets:
                    if isinstance(t, ast.Tuple) and isinstance(n.value, ast.Tuple) and len(t.elts) == len(n.value.elts):
                        pairs = zip(t.elts, n.value.elts)
                    else:
                        pairs = [(t, n.value)]
                    for target, value in pairs:
                        attr = _self_attr(target, me_f)
                        if attr:
                            stored[attr] = value
        output = None
        for ret, _ in fwd.returns():
            attr = _self_attr(ret.value, me_f)
            if attr is None and isinstance(ret.value, ast.Name):
                attr = next((a for a, v in stored.items() if isinstance(v, ast.Name) and v.id == ret.value.id), None)
            if attr is not None:
                output = attr
        if output is None:
            continue
        reads = [p for n, p in bwd.own() if _self_attr(n, me_b) == output and isinstance(n.ctx, ast.Load)]
        if not reads:
            continue
        inputs = [(param, a) for param in fwd.params for a, v in stored.items() if _kept_param(v, [param]) == param]
        synthesize = None
        if not inputs and len(fwd.params) == 1:
            param = fwd.params[0]
            used = {n.attr for n in ast.walk(fwd.cls) if isinstance(n, ast.Attribute)}
            attr = next(a for a in (param, f"{param}_input", f"_gc_{param}") if a not in used)
            inputs, synthesize = [(param, attr)], attr
        for param, attr in inputs:

            def edit(
                tree, np_name, attr=attr, reads=reads, keep=synthesize, where=fwd.path, line=f"{me_f}.{attr} = {param}"
            ):
                for p in reads:
                    _get(tree, p).attr = attr
                if keep is not None:
                    body = _get(tree, where).body
                    body[_insert_at(body) : _insert_at(body)] = _stmts(line)

            kept = f" (forward now keeps self.{attr} = {param})" if synthesize else ""
            yield (
                bwd,
                f"{bwd.qual}: reads self.{attr} (forward's input {param}) instead of self.{output} (its output){kept}",
                edit,
            )


def _closure_at_input(functions):
    """(function, description, edit) for each _backward closure that reads its operation's output
    (``out.data``, or the local ``out = Value(t, ...)`` was made from): it reads the input instead
    (the enclosing method's ``self.data``) (Note [Closures of a scalar engine])."""
    for fn in functions:
        if not fn.closure_backward or not fn.outer.node.args.args:
            continue
        me = fn.outer.node.args.args[0].arg
        returned = {r.value.id for r, _ in fn.outer.returns() if isinstance(r.value, ast.Name)}
        made_from = set()
        for n, _ in fn.outer.own():
            if (
                isinstance(n, ast.Assign)
                and len(n.targets) == 1
                and isinstance(n.targets[0], ast.Name)
                and n.targets[0].id in returned
                and isinstance(n.value, ast.Call)
                and n.value.args
                and isinstance(n.value.args[0], ast.Name)
            ):
                made_from.add(n.value.args[0].id)
        reads = []
        for n, p in fn.own():
            if (
                isinstance(n, ast.Attribute)
                and n.attr == "data"
                and isinstance(n.value, ast.Name)
                and n.value.id in returned
                and isinstance(n.ctx, ast.Load)
            ) or (isinstance(n, ast.Name) and n.id in made_from and isinstance(n.ctx, ast.Load)):
                reads.append(p)
        if not reads:
            continue

        def edit(tree, np_name, reads=reads, me=me):
            for p in reads:
                _put(tree, p, ast.Attribute(ast.Name(me, ast.Load()), "data", ast.Load()))

        shown = ", ".join(sorted({f"{r}.data" for r in returned} | made_from))
        yield fn, f"{fn.qual}: reads {me}.data (the input) where it read {shown} (the output)", edit


def _cache_layout(fwd):
    """(output name, {position: name}) of a function pair's forward returning ``out, cache`` with a
    tuple or dict display as cache (or a name assigned one); positions are indices or dict keys."""
    for ret, _ in fwd.returns():
        v = ret.value
        if not (isinstance(v, ast.Tuple) and len(v.elts) == 2 and isinstance(v.elts[0], ast.Name)):
            continue
        cache = v.elts[1]
        if isinstance(cache, ast.Name):
            shown = _assigned(fwd, cache.id)
            cache = shown[-1][0] if shown else None
        layout = {}
        if isinstance(cache, ast.Tuple | ast.List):
            layout = {i: e.id for i, e in enumerate(cache.elts) if isinstance(e, ast.Name)}
        elif isinstance(cache, ast.Dict):
            layout = {
                k.value: e.id
                for k, e in zip(cache.keys, cache.values)
                if isinstance(k, ast.Constant) and isinstance(e, ast.Name)
            }
        if layout:
            return v.elts[0].id, layout
    return None, {}


def _pair_at_input(functions):
    """(function, description, edit) for each ``NAME_forward``/``NAME_backward`` pair whose cache holds
    forward's output and an input: backward reads the input where it read the output."""
    top = {fn.name: fn for fn in functions if fn.cls is None}
    for name, fwd in top.items():
        words = name.split("_")
        partner = "_".join("backward" if w == "forward" else w for w in words)
        if name == "forward" or not _named(name, "forward") or partner not in top:
            continue
        bwd = top[partner]
        out, layout = _cache_layout(fwd)
        out_pos = next((k for k, v in layout.items() if v == out), None)
        in_pos = next((k for p in fwd.params for k, v in layout.items() if v == p), None)
        if out_pos is None or in_pos is None or len(bwd.params) < 2:
            continue
        cache = "cache" if "cache" in bwd.params else bwd.params[1]
        local = {}  # position -> backward's local name for it
        direct = {}  # position -> paths of cache[position] read directly
        for n, p in bwd.own():
            if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.value, ast.Name):
                t = n.targets[0]
                if n.value.id == cache and isinstance(t, ast.Tuple | ast.List):
                    local.update({i: e.id for i, e in enumerate(t.elts) if isinstance(e, ast.Name)})
            elif (
                isinstance(n, ast.Subscript)
                and isinstance(n.value, ast.Name)
                and n.value.id == cache
                and isinstance(n.slice, ast.Constant)
            ):
                direct.setdefault(n.slice.value, []).append(p)
        for n, _ in bwd.own():  # v = cache[key]
            if (
                isinstance(n, ast.Assign)
                and len(n.targets) == 1
                and isinstance(n.targets[0], ast.Name)
                and isinstance(n.value, ast.Subscript)
                and isinstance(n.value.value, ast.Name)
                and n.value.value.id == cache
                and isinstance(n.value.slice, ast.Constant)
            ):
                local[n.value.slice.value] = n.targets[0].id
        if out_pos in local and in_pos in local:
            old, new = local[out_pos], local[in_pos]
            reads = [p for n, p in bwd.own() if isinstance(n, ast.Name) and n.id == old and isinstance(n.ctx, ast.Load)]

            def edit(tree, np_name, reads=reads, new=new):
                for p in reads:
                    _get(tree, p).id = new

        elif direct.get(out_pos):
            reads, old, new = direct[out_pos], f"{cache}[{out_pos!r}]", f"{cache}[{in_pos!r}]"

            def edit(tree, np_name, reads=reads, in_pos=in_pos):
                for p in reads:
                    _get(tree, p).slice = ast.Constant(in_pos)

        else:
            continue
        if reads:
            yield bwd, f"{bwd.qual}: reads {new} (forward's input) instead of {old} (its output)", edit


_OPERATORS = {
    "negate": _op_negate,
    "double": _op_double,
    "zero": _op_zero,
    "transpose": _op_transpose,
    "swap": _op_swap,
    "ones_dout": _op_ones_dout,
    "inplace": _op_inplace,
    "overwrite": _op_overwrite,
    "sgd_sign": _op_sgd_sign,
}


def _sites(tree, operators, names):
    """(operator, function, description, edit) of every site, in a stable order: by function in
    source order, then by operator in OPERATORS order, then by site in source order. ``names``: the
    top-level functions and classes whose code may change (None: all)."""
    functions = [fn for fn in _functions(tree) if names is None or fn.qual.split(".")[0] in names]
    at_input = {}
    if "at_input" in operators:
        for fn, desc, edit in [*_class_at_input(functions), *_pair_at_input(functions), *_closure_at_input(functions)]:
            at_input.setdefault(fn.path, []).append((desc, edit))
    for fn in functions:
        for op in OPERATORS:
            if op not in operators:
                continue
            found = at_input.get(fn.path, []) if op == "at_input" else _OPERATORS[op](fn)
            for desc, edit in found:
                yield op, fn, desc, edit


def mutants_of_source(source: str, filename: str, operators=None, names=None) -> Generated:
    """The mutants of one module's ``source`` (``filename``, e.g. ``gates.py``, names it in ids).
    ``operators``: the operator names to apply (default: all of OPERATORS). ``names``: the top-level
    functions and classes whose code may change (default: all; the rest of the module, helpers the
    students do not write, stays as it is). Raises SyntaxError when the source does not parse."""
    operators = set(OPERATORS if operators is None else operators)
    unknown = operators - set(OPERATORS)
    if unknown:
        raise ValueError(f"unknown mutation operators {sorted(unknown)}; expected some of {list(OPERATORS)}")
    tree = ast.parse(source, filename)
    seen = {ast.unparse(tree): "the reference"}
    np_name = _numpy_name(tree) or _NUMPY_FALLBACK
    counts, mutants, skipped = {}, [], []
    for op, fn, desc, edit in _sites(tree, operators, None if names is None else set(names)):
        k = counts[fn.qual, op] = counts.get((fn.qual, op), -1) + 1
        mid = f"{filename}:{fn.qual}:{op}#{k}"
        changed = ast.parse(source, filename)  # a fresh copy: the same nodes at the same paths, fast
        edit(changed, np_name)
        ast.fix_missing_locations(changed)
        if _numpy_name(tree) is None:
            changed.body.insert(_insert_at(changed.body), _stmts(f"import numpy as {_NUMPY_FALLBACK}")[0])
        try:
            text = ast.unparse(changed)
            compile(text, filename, "exec", dont_inherit=True)
        except (SyntaxError, ValueError, TypeError, RecursionError) as e:
            skipped.append((mid, f"does not compile: {type(e).__name__}: {e}"))
            continue
        if text in seen:
            skipped.append((mid, f"same source as {seen[text]}"))
            continue
        seen[text] = mid
        mutants.append(Mutant(mid, filename, fn.qual, op, desc, text + "\n"))
    return Generated(tuple(mutants), tuple(skipped))


def mutants_of_folder(folder, modules, operators=None, names=None) -> Generated:
    """The mutants of every module of ``folder`` (``<module>.py`` for each name in ``modules``, in
    that order; a module the folder does not have has none). ``names``: {module: the top-level names
    whose code may change, or None for all of it}; a module it leaves out has no mutant (default:
    everything)."""
    out = Generated()
    for module in modules:
        path = Path(folder) / f"{module}.py"
        if path.is_file() and (names is None or module in names):
            only = None if names is None else names[module]
            out = out + mutants_of_source(path.read_text(encoding="utf-8"), path.name, operators, only)
    return out
