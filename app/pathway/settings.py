"""Named thresholds where sources disagree (resources/pathway/settings.toml).

Each setting has a type, a documented default with its sources, an allowed range or choices,
and (optionally) the disagreement id that lists the alternatives. ``Settings`` is an immutable
mapping of name -> value; ``resolve_settings`` builds one from defaults plus overrides given as
a dict of values or of strings (``--set NAME=VALUE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any


class SettingError(ValueError):
    """An unknown setting name or a value outside its type / range / choices."""


@dataclass(frozen=True)
class SettingSpec:
    name: str
    type: str  # float | int | str
    default: Any
    description: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    disagreement: str | None = None
    sources: tuple[str, ...] = ()

    def coerce(self, value: Any) -> Any:
        try:
            if self.type == "float":
                if isinstance(value, bool):
                    raise TypeError
                v: Any = float(value)
            elif self.type == "int":
                if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                    raise TypeError
                v = int(float(value)) if isinstance(value, str) else int(value)
            else:
                v = str(value)
        except (TypeError, ValueError):
            raise SettingError(f"setting '{self.name}' must be a {self.type}, got {value!r}") from None
        if self.choices and v not in self.choices:
            raise SettingError(f"setting '{self.name}' must be one of {', '.join(self.choices)}, got {v!r}")
        if self.minimum is not None and v < self.minimum:
            raise SettingError(f"setting '{self.name}' must be >= {self.minimum:g}, got {v}")
        if self.maximum is not None and v > self.maximum:
            raise SettingError(f"setting '{self.name}' must be <= {self.maximum:g}, got {v}")
        return v


class Settings(Mapping[str, Any]):
    """Immutable name -> value mapping that remembers which values were overridden."""

    def __init__(self, specs: Mapping[str, SettingSpec], values: Mapping[str, Any]):
        self._specs = MappingProxyType(dict(specs))
        self._values = MappingProxyType(dict(values))

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    @property
    def specs(self) -> Mapping[str, SettingSpec]:
        return self._specs

    def overridden(self) -> dict[str, Any]:
        return {k: v for k, v in self._values.items() if v != self._specs[k].default}

    def replace(self, **changes: Any) -> Settings:
        values = dict(self._values)
        for k, v in changes.items():
            if k not in self._specs:
                raise SettingError(f"unknown setting '{k}'")
            values[k] = self._specs[k].coerce(v)
        return Settings(self._specs, values)

    def __repr__(self) -> str:
        return f"Settings({dict(self._values)!r})"


def defaults(specs: Mapping[str, SettingSpec]) -> Settings:
    return Settings(specs, {n: s.default for n, s in specs.items()})


def resolve_settings(specs: Mapping[str, SettingSpec],
                     overrides: Settings | Mapping[str, Any] | None = None) -> Settings:
    if isinstance(overrides, Settings):
        if set(overrides) != set(specs):
            raise SettingError("settings were built for a different ruleset")
        return overrides
    base = defaults(specs)
    if not overrides:
        return base
    return base.replace(**dict(overrides))


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``["a=3", "b=x"]`` -> ``{"a": "3", "b": "x"}`` with a clear error for a bad pair."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise SettingError(f"--set expects NAME=VALUE, got {pair!r}")
        out[name.strip()] = value.strip()
    return out
