"""The units of an assignment: what students implement, declared as data (``[[units]]`` in the TOML).

A unit is one thing a student writes, in one API style:

- ``gate``: a class with ``forward(*inputs)`` and ``backward(dout)``, made fresh for every use, its
  constructor taking the unit's ``constant`` (if any);
- ``function_pair``: ``NAME_forward(*inputs[, param]) -> (out, cache)`` and
  ``NAME_backward(dout, cache) -> grads`` (one gradient per differentiable input, in input order);
- ``loss_function``: ``NAME(*inputs) -> (loss, grad)``: the loss and the gradient of its
  differentiable input (a scalar loss: no upstream gradient);
- ``model``: a class with a ``params`` dict and ``loss(X, y) -> (loss, grads)`` (``loss(X)`` ->
  scores), made with declared keyword arguments (CS231n's ``TwoLayerNet``): a unit that declares
  ``params``. Without them, the lecture's MLP (id ``mlp``, its checks the grader's);
- ``graph``: the lecture's ComputationalGraph (its checks are the grader's);
- ``scalar_engine``: an operator-overloading scalar autograd class (micrograd's ``Value``): ``data``,
  ``grad``, the declared ``operators`` (with Values and numbers on either side) and ``methods``,
  ``backward()``; checked on programs of operations the grader draws (``gradcheck.scalar``);
- ``scalar_nn``: the ``Neuron``, ``Layer`` and ``MLP`` classes built on such a Value (micrograd's
  ``nn.py``): ``parameters()``, ``zero_grad()``, calls on lists of numbers.

Each input has a symbolic shape (names bound by each case: ``x: [N, D]``) and a value domain; the
cases say which sizes to draw. The grader draws every value from the seed (``gradcheck.checks``);
nothing here is Python an instructor writes. Parsed from the (schema-validated) TOML by ``units()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Constant", "Domain", "Input", "ModelParam", "Param", "STYLES", "ScalarSpec", "Unit", "parse_units"]

#: The API styles a unit may have; the first three are graded by the same checks (``DIFFERENTIABLE``).
STYLES = ("gate", "function_pair", "loss_function", "graph", "model", "scalar_engine", "scalar_nn")
DIFFERENTIABLE = ("gate", "function_pair", "loss_function")
#: The checks of a differentiable unit, by aspect, in report order: ``<prefix>.<aspect>``.
ASPECTS = ("forward", "backward", "numerical", "shapes", "no_mutation")
#: The checks of a model unit (one that declares ``params``), by aspect, in report order.
MODEL_ASPECTS = ("params", "scores", "loss", "gradients", "numerical", "no_mutation")
#: What a scalar engine may declare: its operators (each also with a number on either side, where that
#: means something) and methods; each is one check, ``<unit id>.<name>``, in this order.
SCALAR_OPERATORS = ("add", "sub", "mul", "div", "pow", "neg")
SCALAR_METHODS = ("exp", "tanh", "relu", "sigmoid", "log")
#: The checks of a scalar engine after its operators' and methods', in report order.
SCALAR_ASPECTS = ("accumulation", "dag", "deep_chain", "rerun", "random_expressions")
#: The checks of a scalar engine's nn classes, in report order.
SCALAR_NN_ASPECTS = ("parameters", "forward", "gradients", "zero_grad", "train")
#: The points key of an aspect that is not itself a key of ``[points]``: each operator or method's check.
POINTS_KEYS = {a: "operator" for a in SCALAR_OPERATORS + SCALAR_METHODS}


@dataclass(frozen=True)
class Domain:
    """Where an input's values are drawn from.

    kind: "uniform" (args: lo, hi), "normal" (args: sigma; mean 0), "away_from_zero" (args: lo, hi:
    |x| uniform in [lo, hi], random sign: a kink or pole at 0 stays out of reach), "labels" (args:
    the size name C: integers in [0, C), not differentiated), "near" (args: another input's name,
    lo, hi: that input plus or minus a gap uniform in [lo, hi]: no near-ties with it)."""

    kind: str = "uniform"
    args: tuple = (-2.0, 2.0)

    @property
    def differentiable(self) -> bool:
        return self.kind != "labels"


@dataclass(frozen=True)
class Input:
    """One input of a unit: its name (messages say "input 1 (labels)"), symbolic shape (a tuple of
    size names and ints; None: the case's elementwise shape), and domain."""

    name: str
    shape: tuple | None = None
    domain: Domain = field(default_factory=Domain)

    @property
    def differentiable(self) -> bool:
        return self.domain.differentiable


@dataclass(frozen=True)
class Constant:
    """A gate's constructor argument: a float drawn per case from ``domain``, rounded to ``digits``."""

    name: str
    domain: Domain
    digits: int = 3


@dataclass(frozen=True)
class Param:
    """A function pair's last, non-differentiated argument: a dict (CS231n's ``bn_param``,
    ``dropout_param``, ``conv_param``): ``value`` for every case unless a case gives its own;
    ``mutable``: the keys the function may add or change (bn_param's running averages)."""

    name: str
    value: dict
    mutable: tuple = ()


@dataclass(frozen=True)
class ModelParam:
    """One entry of a model's ``params`` dict: its name, symbolic shape (size names bound by each case),
    the domain the grader draws its values from (it sets them before every call), and ``init``: what
    the constructor must leave there, None (anything of that shape), ("zeros",) or ("normal", scale):
    random draws of about that standard deviation (scale: a number or the name of a constructor
    argument, ``weight_scale``)."""

    name: str
    shape: tuple
    domain: Domain = field(default_factory=lambda: Domain("normal", (0.5,)))
    init: tuple | None = None


@dataclass(frozen=True)
class ScalarSpec:
    """What a ``scalar_engine`` or ``scalar_nn`` unit declares beyond a name, module and inputs.

    An engine: ``operators`` (among SCALAR_OPERATORS) and ``methods`` (among SCALAR_METHODS) students
    implement; ``exponents``: the numbers ``**`` is checked with; ``depth``: the deep chain's length
    (the default stays below Python's recursion limit: a recursive topological sort is correct);
    ``examples``: random expressions drawn by Hypothesis.

    An nn: ``engine``: the name of the engine unit whose Values it is built from; ``classes``: the
    class names (keys module, neuron, layer, mlp); ``weights``: the domain of the parameter values the
    grader sets through ``parameters()``; ``relu_margin``: every ReLU pre-activation at least this far
    from 0 (drawn again until the reference says so); ``train``: steps, lr and examples of the
    training check. Cases (``Unit.cases``): ``{"nin": 3, "nouts": [4, 4, 1]}``, each an MLP."""

    operators: tuple = ()
    methods: tuple = ()
    exponents: tuple = (2, 3, -1, 0.5)
    depth: int = 300
    examples: int = 30
    engine: str = ""
    classes: tuple = (("module", "Module"), ("neuron", "Neuron"), ("layer", "Layer"), ("mlp", "MLP"))
    weights: Domain = field(default_factory=lambda: Domain("uniform", (-1.0, 1.0)))
    relu_margin: float = 0.05
    train: tuple = (("steps", 20), ("lr", 0.05), ("examples", 6))

    def cls(self, role: str) -> str:
        """The declared class name of ``role`` (module, neuron, layer, mlp)."""
        return dict(self.classes)[role]

    @property
    def training(self) -> dict:
        return dict(self.train)


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the grader caches its plans by unit
class Unit:
    """One unit of the assignment (see the module docstring).

    id: the check id prefix (``gates.AddGate``; a model's may be its module's name, ``mlp``).
    output: "array" (two random upstream gradients of the output's shape), "scalar" (backward() with
    its default, then a random scalar: a loss over a batch), or "loss" (a loss_function: no upstream
    gradient). cases: the sizes each case binds (``{"N": 2, "D": 3}``), plus optional ``label``,
    ``values`` (fixed inputs), ``douts`` (fixed upstream gradients) and ``param``; empty for an
    elementwise unit (Python floats, (), (4,), (2, 3)). accept: a condition each drawn case must meet
    (``{"label_probability": [lo, hi]}``), redrawn until it does. extra_grads: backward may return more
    items than the gradients it must. batch_mean: the output is a mean over input 0's rows.

    A model (``params`` declared): ``inputs`` are the data ``loss`` takes (the last, y, left out for
    the scores); the constructor gets ``args`` (fixed keyword arguments; a case's ``args`` replace
    some) and ``size_args`` (keyword arguments bound to the case's sizes: ``{"input_dim": "D"}``);
    its ``bugs`` are (says, constructor arguments)."""

    name: str
    style: str
    module: str
    id: str
    inputs: tuple = ()
    constant: Constant | None = None
    param: Param | None = None
    output: str = "array"
    cases: tuple = ()
    accept: dict = field(default_factory=dict)
    extra_grads: bool = False
    batch_mean: bool = False
    functions: tuple = ()  #: a function pair's or loss function's own names, when not the default
    #: classic bugs to name: (says, function): the reference module's ``function(dout, *inputs[, param])``
    #: gives the gradients that bug would; a backward that returns them is told ``says``. A model's are
    #: (says, args): the reference made with these constructor arguments instead gives what the bug gives.
    #: A scalar engine's are (says, model): a bug of the grader's library (``gradcheck.scalar.bugs``)
    bugs: tuple = ()
    params: tuple = ()  #: a model's ModelParams, in declaration order (none: the lecture's MLP)
    args: dict = field(default_factory=dict)  #: a model's fixed constructor keyword arguments
    size_args: dict = field(default_factory=dict)  #: a model's constructor keyword arguments -> size names
    #: a scalar engine's or its nn's declaration (``ScalarSpec``); None for the other styles
    scalar: ScalarSpec | None = None

    @property
    def is_model(self) -> bool:
        """A model graded by its declaration (``checks.models``), not the lecture's MLP."""
        return self.style == "model" and bool(self.params)

    @property
    def param_names(self) -> tuple:
        return tuple(p.name for p in self.params)

    @property
    def forward_name(self) -> str:
        """The function a call starts with: NAME_forward (a pair's), NAME (a loss function's)."""
        if self.functions:
            return self.functions[0]
        return f"{self.name}_forward" if self.style == "function_pair" else self.name

    @property
    def backward_name(self) -> str | None:
        """A function pair's backward function (NAME_backward), else None."""
        if self.style != "function_pair":
            return None
        return self.functions[1] if len(self.functions) > 1 else f"{self.name}_backward"

    @property
    def arity(self) -> int:
        return len(self.inputs)

    @property
    def input_names(self) -> tuple:
        return tuple(i.name for i in self.inputs)

    @property
    def wrt(self) -> tuple:
        """The indices of the differentiable inputs."""
        return tuple(k for k, i in enumerate(self.inputs) if i.differentiable)

    @property
    def gradients(self) -> int:
        """How many gradients backward must return: one per differentiable input."""
        return len(self.wrt)

    @property
    def labels(self) -> int | None:
        """The index of the (one) input that is not differentiated, or None."""
        rest = [k for k, i in enumerate(self.inputs) if not i.differentiable]
        return rest[0] if rest else None

    def input_name(self, i: int) -> str:
        return self.inputs[i].name

    def input_label(self, i: int) -> str:
        """How messages name input i: numbered from 0 and named, "input 1 (labels)"."""
        return f"input {i} ({self.inputs[i].name})"

    @property
    def check_ids(self) -> tuple:
        if self.style in DIFFERENTIABLE:
            return tuple(f"{self.id}.{a}" for a in ASPECTS)
        if self.is_model:
            return tuple(f"{self.id}.{a}" for a in MODEL_ASPECTS)
        if self.style == "scalar_engine":
            own = self.scalar.operators + self.scalar.methods
            return tuple(f"{self.id}.{a}" for a in own + SCALAR_ASPECTS)
        if self.style == "scalar_nn":
            return tuple(f"{self.id}.{a}" for a in SCALAR_NN_ASPECTS)
        return ()


def _domain(d) -> Domain:
    if d is None:
        return Domain()
    (kind, args), *_ = d.items()
    if kind == "near":
        return Domain("near", (args, *d["gap"]))
    if kind == "normal":
        return Domain("normal", (float(args),))
    if kind == "labels":
        return Domain("labels", (args,))
    return Domain(kind, tuple(float(a) for a in args))


def _unit(u: dict) -> Unit:
    inputs = tuple(
        Input(i["name"], tuple(i["shape"]) if "shape" in i else None, _domain(_domain_table(i)))
        for i in u.get("inputs", [{"name": "x"}])
    )
    constant = None
    if "constant" in u:
        c = u["constant"]
        constant = Constant(c["name"], _domain(_domain_table(c)), int(c.get("digits", 3)))
    param = None
    if "param" in u:
        p = u["param"]
        param = Param(p["name"], dict(p.get("value", {})), tuple(p.get("mutable", ())))
    style = u["style"]
    default_output = "loss" if style == "loss_function" else "array"
    return Unit(
        name=u["name"],
        style=style,
        module=u["module"],
        id=u.get("id", f"{u['module']}.{u['name']}"),
        inputs=inputs if style in DIFFERENTIABLE + ("scalar_engine", "scalar_nn") or "params" in u else (),
        constant=constant,
        param=param,
        output=u.get("output", default_output),
        cases=tuple(dict(c) for c in u.get("cases", [])),
        accept=dict(u.get("accept", {})),
        extra_grads=bool(u.get("extra_grads", False)),
        batch_mean=bool(u.get("batch_mean", False)),
        functions=tuple(u.get("functions", ())),
        bugs=tuple(
            (b["says"], b.get("gradients") or b.get("model") or dict(b.get("args", {}))) for b in u.get("bugs", ())
        ),
        params=tuple(_model_param(name, p) for name, p in u.get("params", {}).items()),
        args=dict(u.get("args", {})),
        size_args=dict(u.get("size_args", {})),
        scalar=_scalar(u) if style in ("scalar_engine", "scalar_nn") else None,
    )


def _scalar(u: dict) -> ScalarSpec:
    """A scalar engine's or nn's ScalarSpec from its (validated) TOML entry; defaults for what it leaves out."""
    default = ScalarSpec()
    return ScalarSpec(
        operators=tuple(u.get("operators", ())),
        methods=tuple(u.get("methods", ())),
        exponents=tuple(u.get("exponents", default.exponents)),
        depth=int(u.get("depth", default.depth)),
        examples=int(u.get("examples", default.examples)),
        engine=str(u.get("engine", "")),
        classes=tuple({**dict(default.classes), **u.get("classes", {})}.items()),
        weights=_domain(u["weights"]) if "weights" in u else default.weights,
        relu_margin=float(u.get("accept", {}).get("relu_margin", default.relu_margin)),
        train=tuple({**dict(default.train), **u.get("train", {})}.items()),
    )


def _model_param(name: str, p) -> ModelParam:
    """A model's parameter from its TOML: a shape (``["D", "H"]``) or ``{shape, domain, init}``."""
    if isinstance(p, list):
        return ModelParam(name, tuple(p))
    init = p.get("init")
    if isinstance(init, dict):
        init = ("normal", init["normal"])
    elif init is not None:
        init = (init,)
    domain = _domain(p["domain"]) if "domain" in p else ModelParam(name, ()).domain
    return ModelParam(name, tuple(p["shape"]), domain, init)


def _domain_table(d: dict):
    """The domain of an input or constant table: its ``domain`` key, or (``near``) the table itself."""
    if "near" in d:
        return {"near": d["near"], "gap": d["gap"]}
    return d.get("domain")


def parse_units(data: list) -> tuple:
    """The units of a validated ``[[units]]`` array, in file order."""
    return tuple(_unit(u) for u in data)
