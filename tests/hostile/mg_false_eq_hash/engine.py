"""NOT HOSTILE (micrograd; odd dunder methods the grader must not use): a correct engine whose Value
compares like a tensor and refuses everything else a grader might be tempted to do with it:
``a == b`` and ``a < b`` return a new Value (1.0 or 0.0), ``bool(v)`` raises, ``len``, ``iter``,
``float(v)``, ``int(v)``, ``operator.index(v)``, ``copy`` and pickling raise, any attribute it does
not have reads as the number 42.0, and its repr and str are 100 kB holding terminal escape sequences.
Hashing is by identity, so its own visited set works.

A safe grader uses only the contract's API (.data, .grad, the operators, the methods, backward()) and
must give it full marks, with no repr of a student object in its messages. Bounded: no loop of its
own; the repr is built once."""
import honest_engine

_Base = honest_engine.Value
_REPR = "\x1b[2J\x1b[31mValue\x1b[0m" + "#" * 100_000


class Value(_Base):
    def __eq__(self, other):
        other_data = other.data if isinstance(other, _Base) else other
        return Value(1.0 if self.data == other_data else 0.0)

    def __lt__(self, other):
        other_data = other.data if isinstance(other, _Base) else other
        return Value(1.0 if self.data < other_data else 0.0)

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError("the truth value of a Value is ambiguous")

    def __len__(self):
        raise TypeError("a Value has no length")

    def __iter__(self):
        raise TypeError("a Value is not iterable")

    def __float__(self):
        raise TypeError("use .data")

    __int__ = __index__ = __float__

    def __copy__(self):
        raise TypeError("a Value cannot be copied")

    def __deepcopy__(self, memo):
        raise TypeError("a Value cannot be copied")

    def __reduce_ex__(self, protocol):
        raise TypeError("a Value cannot be pickled")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return 42.0

    def __repr__(self):
        return _REPR

    __str__ = __repr__


honest_engine.Value = Value  # the engine's operations make these Values
