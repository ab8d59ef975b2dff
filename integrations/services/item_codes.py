"""From a source system's product code to a Sage 100 ItemCode, each step explained.

Salesforce product codes are often Sage's item codes with a few habits of their
own (a "SF-" prefix, a "-EA" unit suffix, lower case, spaces). The flow's
options say which habits to undo; a cross-reference entered by a person always
wins over a rule, and the result must be a valid Sage key (printable ASCII, up
to 30 characters, upper-case) or the line fails naming the code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from integrations.connectors.sage100 import keys
from integrations.engine.errors import ValidationFailed

OPTION = "item_codes"  # the flow option holding these rules, for error fields


@dataclass(frozen=True)
class ItemCodeRules:
    case: Literal["upper", "keep"] = "upper"
    strip_spaces: bool = True  # trim both ends
    collapse_spaces: bool = True  # runs of whitespace inside become one space
    remove_prefixes: tuple[str, ...] = ()
    remove_suffixes: tuple[str, ...] = ()
    replace: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_options(cls, options: Mapping | None) -> ItemCodeRules:
        """``{"case": "upper", "strip_spaces": true, "collapse_spaces": true,
        "remove_prefixes": ["SF-"], "remove_suffixes": ["-EA"],
        "replace": {" ": "-"}}``; every key optional."""
        options = options or {}
        case = str(options.get("case", "upper")).strip().lower()
        if case not in ("upper", "keep"):
            raise ValidationFailed(
                f"Item code case {case!r} is not known: use 'upper' or 'keep'.",
                field=f"{OPTION}.case",
            )
        replace = options.get("replace") or {}
        if not isinstance(replace, Mapping) or "" in replace:
            raise ValidationFailed(
                "Item code replacements must map non-empty text to its "
                'replacement, e.g. {" ": "-"}.',
                field=f"{OPTION}.replace",
            )
        return cls(
            case=case,
            strip_spaces=_flag(options, "strip_spaces"),
            collapse_spaces=_flag(options, "collapse_spaces"),
            remove_prefixes=_texts(options, "remove_prefixes"),
            remove_suffixes=_texts(options, "remove_suffixes"),
            replace=tuple((str(k), str(v)) for k, v in replace.items()),
        )

    def apply(self, code: str) -> tuple[str, list[str]]:
        """The normalised code and what changed it, in order."""
        steps: list[str] = []
        value = code

        def step(new: str, why: str) -> None:
            nonlocal value
            if new != value:
                steps.append(f"{why}: {value!r} → {new!r}")
                value = new

        if self.strip_spaces:
            step(value.strip(), "trimmed spaces")
        if self.collapse_spaces:
            step(" ".join(value.split()), "collapsed spaces")
        for prefix in self.remove_prefixes:
            if value.upper().startswith(prefix.upper()):
                step(value[len(prefix) :], f"removed prefix {prefix!r}")
                break
        for suffix in self.remove_suffixes:
            if value.upper().endswith(suffix.upper()):
                step(value[: len(value) - len(suffix)], f"removed suffix {suffix!r}")
                break
        for old, new in self.replace:
            step(value.replace(old, new), f"replaced {old!r} with {new!r}")
        if self.case == "upper":
            step(value.upper(), "upper-cased")
        return value, steps


def _flag(options: Mapping, name: str) -> bool:
    value = options.get(name, True)
    if not isinstance(value, bool):
        raise ValidationFailed(
            f"Item code option {name} must be true or false, not {value!r}.",
            field=f"{OPTION}.{name}",
        )
    return value


def _texts(options: Mapping, name: str) -> tuple[str, ...]:
    value = options.get(name) or []
    if isinstance(value, str) or not all(isinstance(v, str) and v for v in value):
        raise ValidationFailed(
            f'Item code option {name} must be a list of texts, e.g. ["SF-"].',
            field=f"{OPTION}.{name}",
        )
    # Longest first, so "SF-X-" is removed before "SF-".
    return tuple(sorted(value, key=len, reverse=True))


@dataclass(frozen=True)
class Resolution:
    code_in: str
    code_out: str
    via: Literal["xref", "rules", "as_is"]
    steps: list[str] = field(default_factory=list)


def resolve(
    code: str,
    *,
    xref: Callable[[str], str | None],
    rules: ItemCodeRules,
    field_name: str = "ItemCode",
) -> Resolution:
    """The Sage 100 item code for a source product code.

    Order: the item cross-reference for the code exactly as sent; the
    cross-reference for the normalised code; the normalised code itself. The
    result is checked by Sage's ItemCode rules (``keys.item_code``); a bad one
    raises ``ValidationFailed`` naming ``field_name``.
    """
    code_in = "" if code is None else str(code)
    if not code_in.strip():
        raise ValidationFailed(f"{field_name} is empty.", field=field_name)
    steps: list[str] = []
    found = xref(code_in)
    if found:
        steps.append(f"cross-reference {code_in!r} → {found!r}")
        return Resolution(code_in, _valid(found, field_name, code_in), "xref", steps)
    steps.append(f"no cross-reference for {code_in!r}")
    normalised, changes = rules.apply(code_in)
    steps.extend(changes)
    if normalised != code_in:
        found = xref(normalised)
        if found:
            steps.append(f"cross-reference {normalised!r} → {found!r}")
            return Resolution(
                code_in, _valid(found, field_name, code_in), "xref", steps
            )
        steps.append(f"no cross-reference for {normalised!r}")
        steps.append(f"using {normalised!r}")
        return Resolution(
            code_in, _valid(normalised, field_name, code_in), "rules", steps
        )
    steps.append(f"using {code_in!r} as sent")
    return Resolution(code_in, _valid(code_in, field_name, code_in), "as_is", steps)


def _valid(code: str, field_name: str, code_in: str) -> str:
    try:
        return keys.item_code(code, field_name)
    except ValidationFailed as exc:
        if code != code_in:
            exc.message = f"{exc.message} (from product code {code_in!r})"
        raise
