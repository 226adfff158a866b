"""The tree's shape in its paths (`jl.th.dc`: province, city, county): pure functions, the one
place tree logic is written."""

from __future__ import annotations


def within(path: str, base: str) -> bool:
    """Whether `path` is `base` or a descendant of it."""
    return path == base or path.startswith(base + ".")


def city_of(path: str) -> str:
    """The city a path belongs to (paths are province.city.county…)."""
    return ".".join(path.split(".")[:2])
