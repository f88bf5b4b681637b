"""Rule sets for the automatic disclosure checks: ACRO's defaults, OpenSAFELY and DataSHIELD.

A :class:`RuleSet` is a frozen set of thresholds. ``RuleSet.from_json`` takes what a Datasite
owner sets (``disclosure_rules``): ``None`` (ACRO's defaults), a preset name (``"acro"``,
``"opensafely"``, ``"datashield"``), or a dict ``{"preset": ..., <rule>: <value>, ...}`` (or
the same as a JSON string) whose other keys override the preset's values. Bad input is a
``ValueError`` that names the bad key or value (length-capped).

Presets (sources: ACRO ``acro/default.yaml``; OpenSAFELY's output checking rules; DataSHIELD
``nfilter.*`` options):

- ``acro``: minimum cell count 10 (``safe_threshold``), n-k dominance with n=2, k=0.90, p-ratio
  0.10, zeros disclosive, residual degrees of freedom at least 10.
- ``opensafely``: counts of 7 or fewer are redacted, so a count <= 7 fails (``safe_threshold``
  8), and every count must be rounded to a multiple of 5 (``rounding`` 5): an unrounded count
  fails (Airlock's checkers reject it: unrounded counts allow differencing attacks); zeros are
  allowed (they are a rounded count).
- ``datashield``: a table's non-zero cells at least 3 (``nfilter.tab``), subsets at least 3
  (``nfilter.subset``), a model's parameters at most 0.33 per record (``nfilter.glm``).

Size caps (all presets; OpenSAFELY's Airlock limits): at most 5,000 rows and 16 MB.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["PRESETS", "RuleSet"]

_MAX_SHOWN = 60  # characters of a bad key or value shown in an error


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


@dataclass(frozen=True)
class RuleSet:
    """Thresholds of the disclosure checks (see the module docstring for the presets)."""

    name: str = "acro"
    preset: str = "acro"
    # frequency tables: a count below this fails (OpenSAFELY "<= 7 redacted" is 8)
    safe_threshold: int = 10
    # a zero count is disclosive (ACRO: zeros_are_disclosive)
    zeros_disclosive: bool = True
    # counts must be multiples of this (OpenSAFELY: 5); None: no rounding rule
    rounding: int | None = None
    # magnitude tables: the fewest records in a group (DataSHIELD nfilter.subset)
    min_group_size: int = 10
    # n-k dominance: the n largest contributors may hold at most k of a group's total
    nk_n: int = 2
    nk_k: float = 0.9
    # p-ratio: the total minus the two largest must be at least p of the largest
    p_ratio: float = 0.1
    # models: residual degrees of freedom at least this (ACRO safe_dof_threshold)
    min_dof: int = 10
    # models: parameters per record at most this (DataSHIELD nfilter.glm); None: not checked
    max_params_per_record: float | None = None
    # size caps of a result (OpenSAFELY Airlock: 5,000 rows, 16 MB)
    max_rows: int = 5000
    max_bytes: int = 16 * 1024 * 1024

    def __post_init__(self) -> None:
        _validate(self)

    # ---- JSON ---------------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: dict[str, Any] | str | None) -> RuleSet:
        """The rule set a Datasite setting describes; ``ValueError`` for anything else."""
        if data is None:
            return PRESETS["acro"]
        if isinstance(data, str):
            text = data.strip()
            if text.startswith("{"):
                try:
                    data = json.loads(text)
                except ValueError:
                    raise ValueError("disclosure rules: not valid JSON") from None
                if not isinstance(data, dict):
                    raise ValueError("disclosure rules: expected a JSON object")
            else:
                preset = PRESETS.get(text.lower())
                if preset is None:
                    raise ValueError(
                        f"disclosure rules: unknown preset {_shown(text)} "
                        f"(one of {', '.join(sorted(PRESETS))})"
                    )
                return preset
        if not isinstance(data, dict):
            raise ValueError(
                f"disclosure rules: expected a preset name or an object, not {type(data).__name__}"
            )
        overrides = dict(data)
        preset_name = overrides.pop("preset", "acro")
        if not isinstance(preset_name, str) or preset_name.lower() not in PRESETS:
            raise ValueError(
                f"disclosure rules: unknown preset {_shown(preset_name)} "
                f"(one of {', '.join(sorted(PRESETS))})"
            )
        base = PRESETS[preset_name.lower()]
        fields = {f.name for f in dataclasses.fields(cls)} - {"preset"}
        for key in overrides:
            if not isinstance(key, str) or key not in fields:
                raise ValueError(
                    f"disclosure rules: unknown rule {_shown(key)} "
                    f"(known: {', '.join(sorted(fields - {'name'}))})"
                )
        if "name" not in overrides:
            changed = any(getattr(base, k) != v for k, v in overrides.items())
            overrides["name"] = "custom" if changed else base.name
        try:
            return dataclasses.replace(base, **overrides)
        except TypeError as exc:  # pragma: no cover - keys were checked above
            raise ValueError(f"disclosure rules: {_shown(str(exc))}") from None

    def to_json(self) -> dict[str, Any]:
        """Every value, so ``RuleSet.from_json(rules.to_json()) == rules``."""
        return dataclasses.asdict(self)

    def digest(self) -> str:
        """The sha256 of the canonical JSON of :meth:`to_json` (hex)."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


_INT_RULES = {
    # name: (smallest, largest)
    "safe_threshold": (0, 10**9),
    "min_group_size": (0, 10**9),
    "nk_n": (1, 1000),
    "min_dof": (0, 10**9),
    "max_rows": (1, 10**12),
    "max_bytes": (1, 1 << 50),
}
_OPTIONAL_INT_RULES = {"rounding": (1, 10**6)}
_FRACTION_RULES = {"nk_k": (0.0, 1.0), "p_ratio": (0.0, 1.0)}
_OPTIONAL_FRACTION_RULES = {"max_params_per_record": (0.0, 1.0)}


def _bad(key: str, value: Any, what: str) -> ValueError:
    return ValueError(f"disclosure rules: {key} must be {what}, not {_shown(value)}")


def _validate(rules: RuleSet) -> None:
    for key in ("name", "preset"):
        value = getattr(rules, key)
        if (
            not isinstance(value, str)
            or not 0 < len(value) <= 40
            or not all(c.isalnum() or c in "-_." for c in value)
        ):
            raise _bad(key, value, "a short name (letters, digits, - _ .)")
    if rules.preset not in _PRESET_NAMES:
        raise _bad("preset", rules.preset, f"one of {', '.join(_PRESET_NAMES)}")
    for key, (lo, hi) in {**_INT_RULES, **_OPTIONAL_INT_RULES}.items():
        value = getattr(rules, key)
        if value is None and key in _OPTIONAL_INT_RULES:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise _bad(key, value, f"an integer from {lo} to {hi}")
    for key, (flo, fhi) in {**_FRACTION_RULES, **_OPTIONAL_FRACTION_RULES}.items():
        value = getattr(rules, key)
        if value is None and key in _OPTIONAL_FRACTION_RULES:
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not flo < value <= fhi:
            raise _bad(key, value, f"a number above {flo} and at most {fhi}")
    if not isinstance(rules.zeros_disclosive, bool):
        raise _bad("zeros_disclosive", rules.zeros_disclosive, "true or false")


_PRESET_NAMES = ("acro", "opensafely", "datashield")

PRESETS: dict[str, RuleSet] = {
    "acro": RuleSet(),
    "opensafely": RuleSet(
        name="opensafely",
        preset="opensafely",
        safe_threshold=8,  # counts <= 7 are redacted
        zeros_disclosive=False,
        rounding=5,
        min_group_size=8,
    ),
    "datashield": RuleSet(
        name="datashield",
        preset="datashield",
        safe_threshold=3,  # nfilter.tab: non-zero cells at least 3
        zeros_disclosive=False,
        min_group_size=3,  # nfilter.subset
        max_params_per_record=0.33,  # nfilter.glm
    ),
}
