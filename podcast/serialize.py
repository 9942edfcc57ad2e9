"""JSON round trip of the typed data model (for episode.json and stage reuse).

``to_jsonable`` turns dataclasses, paths, tuples and mappings into plain JSON values;
``from_jsonable`` rebuilds them from the annotations, so ``from_jsonable(Episode,
to_jsonable(e)) == e`` for every episode the pipeline produces.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from .models import frozen_mapping

__all__ = ["from_jsonable", "paths_in", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Plain JSON value for a model object (dataclass, Path, tuple, mapping, scalar)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return value.item()
    return value


def from_jsonable(annotation: Any, data: Any) -> Any:
    """Rebuild a value of type ``annotation`` from :func:`to_jsonable` output."""
    if data is None:
        return None
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(annotation) if a is not type(None)]
        return from_jsonable(inner[0], data) if len(inner) == 1 else data
    if origin is tuple:
        return _tuple(get_args(annotation), data)
    if origin in (dict, Mapping) or annotation in (dict, Mapping):
        args = get_args(annotation)
        value_type = args[1] if len(args) == 2 else Any
        return frozen_mapping({k: from_jsonable(value_type, v) for k, v in data.items()})
    if annotation is Path:
        return Path(data)
    if dataclasses.is_dataclass(annotation):
        return _dataclass(annotation, data)
    return data


def _tuple(args: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(from_jsonable(args[0], item) for item in data)
    return tuple(from_jsonable(a, item) for a, item in zip(args, data, strict=True))


def _dataclass(cls: type, data: Mapping[str, Any]) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {f.name: from_jsonable(hints[f.name], data[f.name]) for f in dataclasses.fields(cls) if f.name in data}
    return cls(**kwargs)


def paths_in(value: Any) -> Iterator[Path]:
    """Every :class:`Path` inside a model value (to check that reused files still exist)."""
    if isinstance(value, Path):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from paths_in(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from paths_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from paths_in(item)
