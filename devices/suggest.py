"""Did-you-mean for the plant file: the fields a place of the file allows, and the closest one to
a name that is not among them (including names other stacks use for the same thing)."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence

from pydantic import BaseModel

SYNONYMS: dict[str, str] = {
    "endpoint": "url",
    "endpoint_url": "url",
    "server_url": "url",
    "node_id": "node",
    "nodeid": "node",
    "node_ids": "node",
    "browsepath": "browse_path",
    "publish_interval": "publishing_interval",
    "sampling_rate": "sampling_interval",
    "samplinginterval": "sampling_interval",
    "queuesize": "queue_size",
    "user": "username",
    "password": "password_env",
    "cert": "certificate",
    "key": "private_key",
    "policy": "security_policy",
    "units": "unit",
    "eu": "unit",
    "engineering_units": "unit",
    "period": "sample_period",
    "interval": "sample_period",
    "group_id": "group",
    "edge_node_id": "edge_node",
    "device_id": "device",
    "metric_name": "metric",
    "owner": "team",
    "kind": "type",
    "equipment_type": "type",
    "machines": "equipment",
    "assets": "equipment",
}
"""Field names other stacks (or the old README) use, and ours."""


def fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """The field names of the model found by following `loc` from `model`; [] if none."""
    current: object = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    model_type = _model_in(current)
    return list(model_type.model_fields) if model_type is not None else []


def did_you_mean(name: str, choices: Sequence[str]) -> str | None:
    """The choice `name` most likely means, if any is close."""
    synonym = SYNONYMS.get(name.lower())
    if synonym in choices:
        return synonym
    close = difflib.get_close_matches(name.lower(), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def _step(annotation: object, part: str | int) -> object | None:
    model_type = _model_in(annotation)
    if model_type is not None:
        if not isinstance(part, str) or part not in model_type.model_fields:
            return None
        return model_type.model_fields[part].annotation
    for arg in _options(annotation):
        origin = typing.get_origin(arg)
        args: tuple[object, ...] = typing.get_args(arg)
        if origin in (list, tuple) and isinstance(part, int):
            return args[0]
        if origin is dict and isinstance(part, str):
            return args[1]
    return None


def _options(annotation: object) -> list[object]:
    """The members of a union (X | None), the annotated type itself otherwise."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _model_in(annotation: object) -> type[BaseModel] | None:
    for arg in _options(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return None
