"""A flow as its steps, in words an admin reads: the flow designer page's content.

Trigger → extract → transform → validate → load → confirm, each with what it
does for this flow (from the Flow class and the admin's FlowConfig), the
mapping set, the cross-reference tables it reads and the options it uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count

from integrations.flows import registry
from integrations.flows.base import Flow
from integrations.models import CrossReference, FlowConfig, Transform, XrefKind

# Which step reads each option the installed flows know (others: "load").
OPTION_STEPS = {
    "topics": "trigger",
    "reference_column": "transform",
    "order_number_field": "transform",
    "account_external_id_field": "transform",
    "salesforce_currency": "transform",
    "available_formula": "transform",
    "item_codes": "validate",
    "match": "validate",
    "warehouse": "validate",
    "pricing": "validate",
    "customer_reference_column": "validate",
    "customer_no_rule": "validate",
    "customer_defaults": "validate",
    "division": "validate",
    "sage_currency": "validate",
}

# Cross-reference tables the installed flows read or fill in their own code.
FLOW_XREF_KINDS = {
    "generic_order_to_sage100": ("customer", "item"),
    "salesforce_opportunity_to_sage100": ("customer", "item"),
    "salesforce_order_to_sage100": ("customer", "item"),
    "sage100_order_status_to_salesforce": ("status",),
    "sage100_inventory_to_shopify": ("item",),
}

STEP_TITLES = {
    "trigger": "Trigger",
    "extract": "Extract",
    "transform": "Transform",
    "validate": "Validate",
    "load": "Load",
    "confirm": "Confirm",
}


@dataclass
class Step:
    key: str
    title: str
    summary: str
    details: list[str] = field(default_factory=list)
    options: dict = field(default_factory=dict)
    used: bool = True


def _flow_class(config: FlowConfig) -> type[Flow] | None:
    try:
        return type(registry.get(config.flow))
    except KeyError:
        return None


def _overrides(cls: type[Flow] | None, name: str) -> bool:
    return cls is not None and getattr(cls, name) is not getattr(Flow, name)


def steps(config: FlowConfig) -> list[Step]:
    """The six steps of ``config``'s flow, described for this configuration."""
    cls = _flow_class(config)
    source = config.source_connection
    target = config.target_connection
    mappings = list(config.mappings.all())
    on = [m for m in mappings if m.enabled]
    found = [
        Step("trigger", "", _trigger(config, cls)),
        Step(
            "extract",
            "",
            (
                f"Reads the record as {source.name} has it at the time it runs."
                if cls is not None and cls.rereads_source
                else f"Takes the record as {source.name} sent it."
            ),
        ),
        Step(
            "transform",
            "",
            f"{len(on)} field mapping{'' if len(on) == 1 else 's'} switched on"
            + (f", {len(mappings) - len(on)} off." if len(mappings) > len(on) else ".")
            if mappings
            else "No field mappings: the flow's own rules only.",
        ),
        Step(
            "validate",
            "",
            (
                f"Checks the document against {target.name if target else 'the target'}"
                " before anything is written."
                if _overrides(cls, "validate")
                else "No checks of its own beyond the mappings' required fields."
            ),
        ),
        Step("load", "", _load(config, cls)),
        Step(
            "confirm",
            "",
            (
                f"Writes the result back to {source.name}."
                if cls is not None and cls.has_confirm()
                else "Not used by this flow."
            ),
            used=cls is not None and cls.has_confirm(),
        ),
    ]
    for step in found:
        step.title = STEP_TITLES[step.key]
    by_key = {step.key: step for step in found}
    for name, value in (config.options or {}).items():
        by_key[OPTION_STEPS.get(name, "load")].options[name] = value
    if cls is not None and cls.topics:
        by_key["trigger"].details.append(
            "Listens to: " + ", ".join(sorted(cls.topics)) + "."
        )
    attempts = config.max_attempts or settings.LEDGERBRIDGE["MAX_ATTEMPTS"]
    by_key["load"].details.append(
        f"Tries up to {attempts} times before the record needs attention."
    )
    kinds = xref_kinds(config)
    if kinds:
        by_key["transform"].details.append(
            "Cross-references used: "
            + ", ".join(f"{k['label']} ({k['count']})" for k in kinds)
            + "."
        )
    if cls is None:
        by_key["trigger"].details.append(
            f"No flow named {config.flow!r} is installed: it cannot run."
        )
    return found


def _trigger(config: FlowConfig, cls: type[Flow] | None) -> str:
    source = config.source_connection.name
    if config.trigger == "webhook":
        text = f"runs when {source} sends an event"
    elif config.trigger == "poll":
        text = f"asks {source} for changes on schedule {config.schedule}"
    elif config.trigger == "schedule":
        text = f"runs on schedule {config.schedule}"
    else:
        text = "runs only when a person starts it"
    if not config.enabled:
        return f"Switched off. When on, it {text}."
    return f"It {text}."


def _load(config: FlowConfig, cls: type[Flow] | None) -> str:
    target = config.target_connection
    where = target.name if target else "the target"
    if cls is not None and cls.batch_size > 1:
        return f"Writes to {where} in batches of up to {cls.batch_size} records."
    return f"Writes each record to {where}."


def xref_kinds(config: FlowConfig) -> list[dict]:
    """The cross-reference tables this flow reads, with how many rows each has."""
    wanted = set(FLOW_XREF_KINDS.get(config.flow, ()))
    wanted.update(
        str(m.transform_args.get("kind"))
        for m in config.mappings.all()
        if m.transform == Transform.XREF and m.transform_args.get("kind")
    )
    counts = dict(
        CrossReference.objects.filter(
            source_connection_id=config.source_connection_id,
            target_connection_id=config.target_connection_id,
        )
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    labels = dict(XrefKind.choices)
    return [
        {"kind": kind, "label": labels.get(kind, kind), "count": counts.get(kind, 0)}
        for kind in sorted(wanted)
    ]
