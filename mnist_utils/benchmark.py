"""Read the benchmark's records (``benchmarks/results.json``) and say which run a page shows.

``make bench`` measures what takes too long for a chapter (an ensemble, several seeds, an
ablation) and writes ``benchmarks/results.json``; the chapters and the Performance appendix
render it. A record is one run, on one machine, of the recipes as they were that day; when a
recipe has changed since, :func:`which_run` says so in words, instead of the page quietly
showing numbers of another recipe (and instead of a test failing until the two-hour
benchmark is run again).
"""

from __future__ import annotations

import datetime
from typing import Any

from .errors import InputTypeError

__all__ = ["recipe_changes", "which_run"]


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat |= _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return flat
    return {prefix: value}


def recipe_changes(measured: dict, current: dict) -> list[str]:
    """The fields of ``current`` whose value differs in ``measured``, as ``"epochs was 15, is now 20"``.

    Nested recipes (an ensemble's ``member``) are compared field by field (``member.epochs``).
    Fields that only ``measured`` has (what the benchmark added, such as the shifts it scored)
    are not compared.

    Raises
    ------
    InputTypeError
        If either is not a dict.
    """
    for value, name in ((measured, "measured"), (current, "current")):
        if not isinstance(value, dict):
            raise InputTypeError(f"{name} must be a recipe as a dict (config.as_dict()), got {type(value).__name__}.")
    then, now = _flatten(measured), _flatten(current)
    return [f"{key} was {then.get(key, 'unset')!r}, is now {value!r}" for key, value in now.items()
            if then.get(key, "unset") != value]


def _long_date(date: str) -> str:
    """``"2026-12-04"`` -> ``"4 December 2026"``; any other text as it is."""
    try:
        return datetime.date.fromisoformat(date).strftime("%-d %B %Y")
    except (TypeError, ValueError):
        return str(date)


def which_run(section: dict, current_recipe: dict | None = None) -> str:
    """Which benchmark run a section of the records is, in words, for the page that shows it.

    For example ``"run on 4 December 2026, on a 2-core AMD EPYC with TensorFlow 2.21.0"``,
    to be read after "the benchmark": followed, when the section's recipe differs from
    ``current_recipe``, by which fields have changed since and that ``make bench`` would
    measure the recipe as it is now.

    Raises
    ------
    InputTypeError
        If ``section`` is not a dict with a ``date`` and a ``machine``.
    """
    if not isinstance(section, dict) or "date" not in section or not isinstance(section.get("machine"), dict):
        raise InputTypeError("section must be one section of benchmarks/results.json, with its 'date' and 'machine'.")
    machine = section["machine"]
    text = (f"run on {_long_date(section['date'])}, on a {machine.get('cores', '?')}-core "
            f"{machine.get('cpu', 'CPU')} with TensorFlow {machine.get('tensorflow', '?')}")
    if current_recipe is not None:
        changes = recipe_changes(section.get("recipe") or {}, current_recipe)
        if changes:
            text += (f"; the recipe has changed since ({'; '.join(changes)}), and `make bench` would "
                     "measure it as it is now")
    return text
