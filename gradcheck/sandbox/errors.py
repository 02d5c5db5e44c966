"""The sandbox's own exception."""

from ..errors import GradcheckError


class SandboxError(GradcheckError, RuntimeError):
    """The sandbox itself failed (could not start the zygote, a required isolation is missing)."""
