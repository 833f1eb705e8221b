"""A tiny schema reader that collects Zod-style ``details[]`` (dotted paths, short messages)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Final
from urllib.parse import urlsplit

from genlook_django.sandbox.errors import ApiError, Detail, validation_failed


class _Unset:
    """Marks a field that was not sent (as opposed to one sent as null)."""

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()
MAX_ID_LENGTH = 255
MAX_TEXT_LENGTH = 10_000


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


class Problems:
    """The ``details[]`` collected while reading one body, and the first semantic error.

    Schema problems win over semantic errors (``INVALID_IMAGE_INPUT`` and the like), which
    are only reported for a body whose shape is right.
    """

    def __init__(self) -> None:
        self.details: list[Detail] = []
        self.deferred: ApiError | None = None

    def add(self, path: str, message: str) -> None:
        self.details.append(Detail(path, message))

    def defer(self, error: ApiError) -> None:
        self.deferred = self.deferred or error

    def raise_if_any(self) -> None:
        if self.details:
            raise validation_failed(self.details)
        if self.deferred:
            raise self.deferred


class Reader:
    """Typed access to one JSON object; every mistake becomes a detail, never an exception.

    Getters return the value, or ``UNSET`` when the key is absent, null (unless ``nullable``)
    or wrong (a detail is then recorded).
    """

    def __init__(self, data: Mapping[str, Any], path: str, problems: Problems) -> None:
        self.data = data
        self.path = path
        self.problems = problems

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def sent(self, key: str) -> bool:
        """Present in the body, even as null."""
        return key in self.data

    def _get(self, key: str, expected: str, nullable: bool) -> Any:
        value = self.data.get(key, UNSET)
        if value is UNSET or (value is None and not nullable):
            return UNSET
        if value is None:
            return None
        if json_type(value) != expected:
            self.problems.add(
                join(self.path, key), f"Expected {expected}, received {json_type(value)}"
            )
            return UNSET
        return value

    def string(
        self,
        key: str,
        *,
        nullable: bool = False,
        max_length: int = MAX_TEXT_LENGTH,
        url: bool = False,
    ) -> Any:
        value = self._get(key, "string", nullable)
        if not isinstance(value, str):
            return value
        path = join(self.path, key)
        if not value.strip():
            self.problems.add(path, "String must contain at least 1 character(s)")
            return UNSET
        if len(value) > max_length:
            self.problems.add(path, f"String must contain at most {max_length} character(s)")
            return UNSET
        if url and not is_http_url(value):
            self.problems.add(path, "Invalid url")
            return UNSET
        return value

    def identifier(self, key: str) -> Any:
        return self.string(key, max_length=MAX_ID_LENGTH)

    def boolean(self, key: str) -> Any:
        return self._get(key, "boolean", False)

    def integer(
        self,
        key: str,
        *,
        choices: Collection[int] | None = None,
        minimum: int | None = None,
        maximum: int | None = None,
        nullable: bool = False,
    ) -> Any:
        value = self._get(key, "number", nullable)
        if value is UNSET or value is None:
            return value
        path = join(self.path, key)
        if value != int(value):
            self.problems.add(path, "Expected integer, received float")
            return UNSET
        value = int(value)
        if choices is not None and value not in choices:
            expected = " | ".join(str(choice) for choice in choices)
            self.problems.add(path, f"Invalid value. Expected {expected}, received {value}")
            return UNSET
        if minimum is not None and value < minimum:
            self.problems.add(path, f"Number must be greater than or equal to {minimum}")
            return UNSET
        if maximum is not None and value > maximum:
            self.problems.add(path, f"Number must be less than or equal to {maximum}")
            return UNSET
        return value

    def obj(self, key: str, *, nullable: bool = False) -> Any:
        """A nested object as a Reader (or None when null and ``nullable``)."""
        value = self._get(key, "object", nullable)
        if isinstance(value, dict):
            return Reader(value, join(self.path, key), self.problems)
        return value

    def raw_object(self, key: str, *, nullable: bool = False) -> Any:
        return self._get(key, "object", nullable)

    def array(self, key: str) -> Any:
        return self._get(key, "array", False)

    def objects(self, key: str) -> Any:
        """An array of objects, as Readers; wrong entries are recorded and skipped."""
        items = self.array(key)
        if items is UNSET:
            return UNSET
        readers: list[Reader] = []
        for index, item in enumerate(items):
            path = join(join(self.path, key), index)
            if isinstance(item, dict):
                readers.append(Reader(item, path, self.problems))
            else:
                self.problems.add(path, f"Expected object, received {json_type(item)}")
        return readers
