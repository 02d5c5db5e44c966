"""The sandbox's own exception."""


class SandboxError(RuntimeError):
    """The sandbox itself failed (could not start the zygote, a required isolation is missing)."""
