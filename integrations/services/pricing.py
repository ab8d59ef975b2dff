"""Which unit price a Sage 100 order line gets: Salesforce's, Sage's, or Sage's
when the two agree.

Prices are ``Decimal`` throughout and rounded half-up to 4 decimals, the scale
of SO_SalesOrderDetail.UnitPrice. Salesforce prices reach ``price_line``
already converted to the Sage company's currency (``services.currency``).

Sage's own price for an item is read from CI_Item.StandardUnitPrice, or, for a
customer price level, from the item's IM_PriceCode record for that level
(``PriceCodeRecord = '1'``), applied with Sage's pricing methods: ``O``
override price, ``D`` discount percentage and ``P`` discount amount off the
standard price, ``M`` markup percentage and ``C`` markup amount on the
standard cost (Sage's 4.40 file layout). The first quantity break's rule is
used, the price of one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal

from integrations.connectors.sage100 import keys
from integrations.connectors.sage100.reader import chunks, marks
from integrations.engine.errors import ValidationFailed

UNIT_PRICE = Decimal("0.0001")  # SO_SalesOrderDetail.UnitPrice: 4 decimals
HUNDRED = Decimal(100)
ZERO = Decimal(0)
MODES = ("salesforce", "sage_price_level", "sage_with_tolerance")


def unit_price(value: Decimal) -> Decimal:
    """Rounded half-up to UnitPrice's 4 decimals."""
    return Decimal(value).quantize(UNIT_PRICE, rounding=ROUND_HALF_UP)


def money(value: Decimal) -> str:
    """A price as people read it: ``12.50``, or ``12.3456`` when it has more."""
    value = unit_price(value)
    cents = value.quantize(Decimal("0.01"))
    return f"{cents}" if cents == value else f"{value.normalize():f}"


@dataclass(frozen=True)
class PricingPolicy:
    mode: Literal["salesforce", "sage_price_level", "sage_with_tolerance"]
    tolerance_percent: Decimal = ZERO
    price_level: str | None = None  # a customer price level ("A"); None: standard

    @classmethod
    def from_options(cls, options: Mapping | None) -> PricingPolicy:
        """``{"mode": "sage_with_tolerance", "tolerance_percent": "2.0",
        "price_level": "A"}``; mode defaults to "salesforce"."""
        options = options or {}
        mode = str(options.get("mode") or "salesforce").strip().lower()
        if mode not in MODES:
            raise ValidationFailed(
                f"Pricing mode {mode!r} is not known: use {', '.join(MODES)}.",
                field="pricing.mode",
            )
        raw = options.get("tolerance_percent", "0")
        try:
            tolerance = Decimal(str(raw).strip())
        except InvalidOperation:
            tolerance = Decimal(-1)
        if not tolerance.is_finite() or tolerance < 0:
            raise ValidationFailed(
                f"The price tolerance must be a percentage of 0 or more, e.g. "
                f'"2.0", not {raw!r}.',
                field="pricing.tolerance_percent",
            )
        level = str(options.get("price_level") or "").strip().upper() or None
        if level is not None and len(level) != 1:
            raise ValidationFailed(
                f"The price level {level!r} must be one character, as Sage 100's "
                "CustomerPriceLevel is.",
                field="pricing.price_level",
            )
        return cls(mode=mode, tolerance_percent=tolerance, price_level=level)


@dataclass(frozen=True)
class PricedLine:
    unit_price: Decimal
    source: Literal["salesforce", "sage"]
    note: str


def price_line(
    sf_unit_price: Decimal,
    sage_price: Decimal | None,
    policy: PricingPolicy,
    *,
    line: int | str | None = None,
    item_code: str = "",
) -> PricedLine:
    """The line's unit price by the policy; ``ValidationFailed`` (field
    ``UnitPrice``) naming the line when Sage has no price or the two disagree
    by more than the tolerance. The difference is measured against Sage's
    price; a difference equal to the tolerance is accepted."""
    label = f"Line {line}: " if line is not None else ""
    item = f"Item {item_code}" if item_code else "The item"
    sf = unit_price(sf_unit_price)
    if policy.mode == "salesforce":
        return PricedLine(sf, "salesforce", "Salesforce price")
    level = f"price level {policy.price_level}" if policy.price_level else "standard"
    if sage_price is None:
        raise ValidationFailed(
            f"{label}{item} has no Sage 100 price ({level}) to use.",
            field="UnitPrice",
        )
    sage = unit_price(sage_price)
    if policy.mode == "sage_price_level":
        return PricedLine(sage, "sage", f"Sage 100 {level} price")
    tolerance = policy.tolerance_percent
    if sage == ZERO:
        within, shown = sf == ZERO, ""
    else:
        difference = abs(sf - sage) / sage * HUNDRED
        within, shown = difference <= tolerance, f" by {difference:.1f}%"
    if not within:
        raise ValidationFailed(
            f"{label}Salesforce price {money(sf)} differs from the Sage 100 price "
            f"{money(sage)}{shown}, more than the allowed {tolerance:.1f}%.",
            field="UnitPrice",
        )
    return PricedLine(
        sage,
        "sage",
        f"Sage 100 {level} price; Salesforce's {money(sf)} is within {tolerance:.1f}%",
    )


def sage_prices(
    reader, item_codes: Iterable[str], price_level: str | None = None
) -> dict[str, Decimal]:
    """Sage 100's unit price per item code (``reader``: a ``Sage100Reader``).

    One SELECT on CI_Item (per 50 codes), and with a price level one on
    IM_PriceCode. An item Sage does not have, or whose price comes out as
    zero (Sage's blank), is left out: "no Sage price" is the caller's call.
    """
    codes = sorted({keys.item_code(code) for code in item_codes})
    items: dict[str, dict] = {}
    for chunk in chunks(codes):
        rows = reader.select(
            "CI_Item",
            "SELECT ItemCode, StandardUnitPrice, StandardUnitCost FROM CI_Item "
            f"WHERE ItemCode IN ({marks(len(chunk))})",
            chunk,
        )
        items.update({row["ItemCode"]: row for row in rows})
    rules: dict[str, dict] = {}
    if price_level and items:
        level = str(price_level).strip().upper()
        for chunk in chunks(sorted(items)):
            rows = reader.select(
                "IM_PriceCode",
                "SELECT ItemCode, PricingMethod, DiscountMarkup1 FROM IM_PriceCode "
                "WHERE PriceCodeRecord = '1' AND CustomerPriceLevel = ? "
                f"AND ItemCode IN ({marks(len(chunk))})",
                [level, *chunk],
            )
            rules.update({row["ItemCode"]: row for row in rows})
    prices = {}
    for code, item in items.items():
        price = _apply(item, rules.get(code))
        if price > ZERO:
            prices[code] = unit_price(price)
    return prices


def _apply(item: Mapping, rule: Mapping | None) -> Decimal:
    standard = _dec(item.get("StandardUnitPrice"))
    if rule is None:
        return standard
    cost = _dec(item.get("StandardUnitCost"))
    amount = _dec(rule.get("DiscountMarkup1"))
    method = (rule.get("PricingMethod") or "").upper()
    if method == "O":
        return amount
    if method == "D":
        return standard * (1 - amount / HUNDRED)
    if method == "P":
        return standard - amount
    if method == "M":
        return cost * (1 + amount / HUNDRED)
    if method == "C":
        return cost + amount
    return standard


def _dec(value) -> Decimal:
    return ZERO if value in (None, "") else Decimal(str(value))
