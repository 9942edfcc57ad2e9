"""Typed, documented stage options.

A stage's ``Options`` is a frozen dataclass; each field carries ``metadata={"help": …}``.
Values arrive from ``podcast.toml`` (already typed) or from ``--set kind.name.key=value``
(strings) and are coerced by the field's annotation before the run starts, so a typo or a
bad value fails fast with one line naming the option.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from .errors import ConfigError

__all__ = ["OptionInfo", "build_options", "describe_options", "option"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def option(default: Any, help: str, **kwargs: Any) -> Any:
    """A dataclass field with a help text (use for every ``Options`` field)."""
    if isinstance(default, list | dict | set):
        raise TypeError("use a tuple or a frozen value as an option default")
    return dataclasses.field(default=default, metadata={"help": help, **kwargs})


@dataclass(frozen=True, slots=True)
class OptionInfo:
    """One documented option, as listed by ``podcast-gen stages --options``."""

    name: str
    type: str
    default: Any
    help: str


def describe_options(options_cls: type) -> list[OptionInfo]:
    """Name, type, default and help text of every field of ``options_cls``."""
    hints = typing.get_type_hints(options_cls)
    infos = []
    for f in dataclasses.fields(options_cls):
        default = f.default if f.default is not dataclasses.MISSING else None
        infos.append(OptionInfo(f.name, _type_name(hints[f.name]), default, f.metadata.get("help", "")))
    return infos


def build_options(options_cls: type, values: Mapping[str, Any], where: str) -> Any:
    """Instantiate ``options_cls`` from ``values``, coercing each by its annotation.

    :param where: the config path for messages, e.g. ``stages.synthesize.espeak``.
    :raises ConfigError: unknown key or a value of the wrong type.
    """
    hints = typing.get_type_hints(options_cls)
    known = {f.name for f in dataclasses.fields(options_cls)}
    kwargs = {}
    for key, value in values.items():
        field_name = key.replace("-", "_")
        if field_name not in known:
            choices = ", ".join(sorted(known)) or "none"
            raise ConfigError(f"unknown option {where}.{key}; known options: {choices}")
        try:
            kwargs[field_name] = coerce(value, hints[field_name])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad value for {where}.{key}: {exc}") from None
    return options_cls(**kwargs)


def coerce(value: Any, annotation: Any) -> Any:
    """Convert ``value`` (TOML-typed or a CLI string) to ``annotation``."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return _coerce_union(value, get_args(annotation))
    if origin is Literal:
        return _coerce_literal(value, get_args(annotation))
    if origin is tuple:
        return _coerce_tuple(value, get_args(annotation))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise TypeError("expected a table")
        return types.MappingProxyType(dict(value))
    return _coerce_scalar(value, annotation)


def _coerce_union(value: Any, args: tuple[Any, ...]) -> Any:
    if value is None or (isinstance(value, str) and value.lower() in {"", "none", "null"}):
        if type(None) in args:
            return None
    errors = []
    for arg in args:
        if arg is type(None):
            continue
        try:
            return coerce(value, arg)
        except (TypeError, ValueError) as exc:
            errors.append(str(exc))
    raise ValueError("; ".join(errors) or f"cannot use {value!r}")


def _coerce_literal(value: Any, choices: tuple[Any, ...]) -> Any:
    for choice in choices:
        if value == choice or (isinstance(value, str) and str(choice) == value):
            return choice
    raise ValueError(f"{value!r} is not one of {', '.join(map(str, choices))}")


def _coerce_tuple(value: Any, args: tuple[Any, ...]) -> tuple[Any, ...]:
    items = [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise TypeError(f"expected a list, got {value!r}")
    item_type = args[0] if args else str
    return tuple(coerce(item, item_type) for item in items)


def _coerce_scalar(value: Any, annotation: Any) -> Any:
    if annotation is Any:
        return value
    if annotation is bool:
        return _coerce_bool(value)
    if annotation in (int, float):
        if isinstance(value, bool):
            raise TypeError(f"expected a number, got {value!r}")
        if isinstance(value, float | str) and not math.isfinite(float(value)):
            raise ValueError(f"expected a finite number, got {value!r}")
        number = annotation(value)
        if annotation is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected an integer, got {value!r}")
        return number
    if annotation is Path:
        return Path(str(value)).expanduser()
    if annotation is str:
        if not isinstance(value, str | int | float):
            raise TypeError(f"expected text, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported option type {annotation!r}")


def _coerce_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return " | ".join(_type_name(a) for a in get_args(annotation))
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(annotation))
    if origin is tuple:
        return f"list[{_type_name(get_args(annotation)[0])}]"
    return getattr(annotation, "__name__", str(annotation))
