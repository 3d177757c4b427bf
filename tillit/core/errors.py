"""Domain errors with messages a person can read; the UI and the API map them to responses."""


class DomainError(Exception):
    """A rule of the domain refused the operation."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}

    def lines(self) -> list[str]:
        """The message, then each field's messages as "field: message": for flash messages and the CLI."""
        return [self.message, *(f"{field}: {m}" for field, items in self.field_errors.items() for m in items)]


class InvalidInput(DomainError):
    """Input failed validation; `field_errors` maps each field at fault to its messages."""


class ConflictError(DomainError):
    """Someone else changed the object meanwhile, or it would duplicate an existing one."""

    def __init__(self, message: str, *, matches: list | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.matches = matches or []
