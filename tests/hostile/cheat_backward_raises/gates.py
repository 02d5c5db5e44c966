"""HOSTILE (integrity): correct forwards (the student's honest_gates); every backward raises. Nothing
about backward, its shapes, centered differences or its arguments can be checked, so none of those
may pass."""
import honest_gates


class _Raises:
    def backward(self, *dz):
        raise NotImplementedError("backward is left as an exercise")


for _name, _honest in vars(honest_gates).copy().items():
    if isinstance(_honest, type):
        globals()[_name] = type(_name, (_Raises, _honest), {})
