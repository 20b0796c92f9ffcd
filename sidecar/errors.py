"""The one exception type that becomes an error response in the app's own wire format."""

from __future__ import annotations

from typing import Any


class RouterError(Exception):
    """A failure the app should see. `code` is a stable machine-readable string; `message`
    never contains request content, keys or matched values."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        kind: str = "invalid_request_error",
        param: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind
        self.param = param
        self.details = details or {}
        self.headers = headers or {}


def bad_request(
    message: str, *, param: str | None = None, code: str = "invalid_request"
) -> RouterError:
    return RouterError(400, code, message, param=param)
