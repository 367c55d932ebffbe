"""Exception types that carry what a user needs to fix the problem."""

from __future__ import annotations

from dataclasses import dataclass


class LaporHubError(Exception):
    """Base of every error LaporHub raises on purpose."""


@dataclass(frozen=True)
class FieldError:
    """One invalid field: a dotted path into the message and why it is wrong."""

    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class InvalidMessage(LaporHubError):
    """A message failed its JSON Schema; `errors` names each field and reason."""

    def __init__(self, schema: str, errors: list[FieldError]) -> None:
        self.schema = schema
        self.errors = errors
        detail = "; ".join(f"{e.field}: {e.reason}" for e in errors[:5])
        if len(errors) > 5:
            detail += f"; and {len(errors) - 5} more"
        super().__init__(f"invalid {schema}: {detail}")


@dataclass(frozen=True)
class ConfigProblem:
    """A problem in a configuration file, located by file and path."""

    file: str
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.path}" if self.path else self.file
        return f"{self.severity}: {where}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        """As a field error of an HTTP answer, with its severity and file."""
        return {"field": self.path or "$", "reason": self.message, "severity": self.severity, "file": self.file}


class ConfigError(LaporHubError):
    """The configuration cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RoutingError(LaporHubError):
    """A routing version cannot be saved or published as asked; `problems` says where and why
    (422 invalid_routing at the HTTP edge)."""

    def __init__(self, message: str, problems: list[ConfigProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


class NoSuchVersion(RoutingError):
    """No routing version with that id (404 at the HTTP edge)."""


class Conflict(LaporHubError):
    """An administrative change that cannot be made as asked: what it would change is already so,
    or it is not allowed in the current state (409 at the HTTP edge, `code` its error code)."""

    code = "conflict"


class UnknownDestination(LaporHubError):
    """A rule or update names a destination the registry does not have."""

    def __init__(self, destination: str, hint: str = "") -> None:
        self.destination = destination
        super().__init__(f"unknown destination {destination!r}{': ' + hint if hint else ''}")


class AdapterNotFound(LaporHubError):
    """A destination names an adapter no installed package provides."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        super().__init__(
            f"no adapter {name!r} in entry-point group 'laporhub.adapters'; "
            f"installed: {', '.join(sorted(available)) or 'none'}"
        )


class DeliveryFailed(LaporHubError):
    """An adapter could not deliver. `retryable` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(reason)


class ComplaintNotFound(LaporHubError):
    def __init__(self, complaint_id: str) -> None:
        self.complaint_id = complaint_id
        super().__init__(f"no complaint {complaint_id!r}")


class UnreadableInput(LaporHubError):
    """A request body that cannot be read as what it claims to be (not UTF-8, not JSON, nested
    too deeply): 400 at the HTTP edge. `errors` names where."""

    def __init__(self, message: str, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__(message)


class TooLarge(LaporHubError):
    """A body over its endpoint's size limit (413), refused while it is being read."""

    def __init__(self, size: int, limit: int, *, declared: bool = False) -> None:
        self.size, self.limit = size, limit
        said = "declares" if declared else "is over"
        super().__init__(f"the body {said} {size} bytes; the limit here is {limit}")


class UnsupportedMediaType(LaporHubError):
    """A body in a content type the endpoint does not take (415)."""

    def __init__(self, got: str, wanted: str) -> None:
        self.got, self.wanted = got, wanted
        super().__init__(f"content-type {got or '(none)'!r} is not accepted here; send {wanted}")


class RateLimited(LaporHubError):
    """A key sent more requests than its allowance (429); `retry_after` in whole seconds."""

    def __init__(self, retry_after: int, limit: str, who: str = "this key", field: str = "authorization") -> None:
        self.retry_after, self.limit, self.field = retry_after, limit, field
        super().__init__(f"{who} is over its rate limit of {limit} (requests/seconds); "
                         f"try again in {retry_after} s")


class SettingsError(ConfigError):
    """An environment variable has a value the hub cannot use (file "environment", path the variable)."""


class NotConfigured(LaporHubError):
    """Something the command needs (the store, the broker) is not configured; the message says which
    variable to set."""


class SchemaBehind(LaporHubError):
    """The database's schema is older (or newer) than this version of the hub; the message names
    the command that brings it up to date."""

    def __init__(self, current: str | None, head: str, message: str) -> None:
        self.current, self.head = current, head
        super().__init__(message)


class BrokerAdminError(LaporHubError):
    """The broker refused or failed an administrative request (users, permissions)."""
