"""Plain values to JSON and back, driven by their type hints.

The offline outbox keeps the changes an officer made while the server was away, and the reading
cache keeps the cases they may need meanwhile; both live in a local file as JSON. Writing them by
hand per class would mean a second description of every value that drifts from the first; here
the dataclasses' own annotations say how to read the JSON back, so a value comes back equal to
what went in (checked by the round-trip tests).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
import uuid
from decimal import Decimal
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

T = TypeVar("T")


class CodecError(ValueError):
    """The JSON does not have the shape of the type it is read as (a file edited by hand)."""


def to_json(value: Any) -> Any:
    """A value as JSON-ready lists, dicts, strings, numbers, booleans and None."""
    if value is None or isinstance(value, bool | int | str):
        return value.value if isinstance(value, enum.Enum) else value
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a NamedTuple
        return {name: to_json(item) for name, item in zip(value._fields, value, strict=True)}
    if isinstance(value, list | tuple | frozenset | set):
        items = sorted(value, key=repr) if isinstance(value, frozenset | set) else value
        return [to_json(item) for item in items]
    if isinstance(value, dict):
        return {str(to_json(key)): to_json(item) for key, item in value.items()}
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def from_json(kind: type[T], data: Any) -> T:
    """Read ``data`` (made by :func:`to_json`) back as a ``kind``."""
    try:
        return typing.cast(T, _read(kind, data))
    except CodecError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise CodecError(f"not a {getattr(kind, '__name__', kind)}: {exc}") from exc


@cache
def _hints(kind: type) -> dict[str, Any]:
    return get_type_hints(kind)


def _read(kind: Any, data: Any) -> Any:
    if kind is Any:
        return data
    origin = get_origin(kind)
    if origin is Union or origin is types.UnionType:
        options = get_args(kind)
        if data is None:
            if type(None) in options:
                return None
            raise CodecError(f"a value is missing where {kind} is expected")
        last: Exception | None = None
        for option in options:
            if option is type(None):
                continue
            try:
                return _read(option, data)
            except (CodecError, TypeError, ValueError, KeyError) as exc:
                last = exc
        raise CodecError(f"{data!r} is none of {kind}") from last
    if origin is typing.Literal:
        if data not in get_args(kind):
            raise CodecError(f"{data!r} is not one of {get_args(kind)}")
        return data
    if origin in (list, tuple, frozenset, set, dict):
        return _read_collection(kind, origin, data)
    if kind is type(None):
        if data is not None:
            raise CodecError(f"{data!r} where nothing is expected")
        return None
    if isinstance(kind, type):
        if issubclass(kind, enum.Enum):
            return kind(data)
        if kind is bool:
            return _exact(data, bool)
        if kind is int:
            if isinstance(data, bool):
                raise CodecError(f"{data!r} is not a whole number")
            return _exact(data, int)
        if kind is float:
            return float(_exact(data, int | float))
        if kind is str:
            return _exact(data, str)
        if kind is dt.datetime:
            return dt.datetime.fromisoformat(_exact(data, str))
        if kind is dt.date:
            return dt.date.fromisoformat(_exact(data, str))
        if kind is uuid.UUID:
            return uuid.UUID(_exact(data, str))
        if kind is Decimal:
            return Decimal(_exact(data, str))
        if dataclasses.is_dataclass(kind):
            return _read_fields(kind, data, [f.name for f in dataclasses.fields(kind)])
        if issubclass(kind, tuple) and hasattr(kind, "_fields"):
            return _read_fields(kind, data, list(kind._fields))
    raise TypeError(f"cannot read {kind!r} from JSON")


def _read_collection(kind: Any, origin: Any, data: Any) -> Any:
    args = get_args(kind)
    if origin is dict:
        key_type, value_type = args
        return {
            _read(key_type, key): _read(value_type, value)
            for key, value in _exact(data, dict).items()
        }
    items = _exact(data, list)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_read(args[0], item) for item in items)
        if len(args) != len(items):
            raise CodecError(f"{len(items)} values where {len(args)} are expected")
        return tuple(_read(arg, item) for arg, item in zip(args, items, strict=True))
    (item_type,) = args
    values = [_read(item_type, item) for item in items]
    return origin(values) if origin is not list else values


def _read_fields(kind: Any, data: Any, names: list[str]) -> Any:
    fields = _exact(data, dict)
    hints = _hints(kind)
    unknown = set(fields) - set(names)
    if unknown:
        raise CodecError(f"unknown fields {sorted(unknown)} for {kind.__name__}")
    return kind(**{name: _read(hints[name], fields[name]) for name in names if name in fields})


def _exact(data: Any, kind: Any) -> Any:
    if not isinstance(data, kind):
        raise CodecError(f"{data!r} is not a {kind}")
    return data
