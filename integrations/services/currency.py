"""Amounts in another currency, at the rate people entered under Currency rates.

The rate for a document is the newest ``CurrencyRate`` whose ``valid_from`` is
on or before the document's date, so re-running an old order gives the same
figures. A rate entered the other way round (USD → EUR when EUR → USD is
wanted) is used inverted; when both directions exist, the newer one wins
(the direct one on the same day). Decimal throughout, rounding half-up:

* unit prices to 4 decimals (SO_SalesOrderDetail.UnitPrice's scale);
* a line's extension, quantity * converted unit price, to 2 decimals
  (ExtensionAmt's scale).

An inverted rate divides by the stored rate instead of multiplying by a
rounded reciprocal, so no precision is lost before the final rounding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from integrations.engine.errors import ReferenceMissing, ValidationFailed
from integrations.models import CurrencyRate

UNIT_PLACES = 4  # SO_SalesOrderDetail.UnitPrice
AMOUNT_PLACES = 2  # ExtensionAmt and the header's amounts
FIELD = "CurrencyIsoCode"  # Salesforce's currency field, named in errors
_CODE = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class AppliedRate:
    """The rate a conversion used, for the flow to show next to its figures."""

    from_currency: str
    to_currency: str
    rate: Decimal  # as stored, in the stored direction
    valid_from: date
    inverted: bool  # stored as to → from, used as 1 / rate
    rate_id: int

    def apply(self, amount: Decimal) -> Decimal:
        """Unrounded: ``amount`` in ``to_currency``."""
        amount = Decimal(amount)
        return amount / self.rate if self.inverted else amount * self.rate

    @property
    def effective(self) -> Decimal:
        """Units of ``to_currency`` per unit of ``from_currency``."""
        return Decimal(1) / self.rate if self.inverted else self.rate

    def __str__(self) -> str:
        stored = (
            f"1 {self.to_currency} = {self.rate.normalize():f} {self.from_currency}"
            if self.inverted
            else f"1 {self.from_currency} = {self.rate.normalize():f} "
            f"{self.to_currency}"
        )
        used = " (used inverted)" if self.inverted else ""
        return f"{stored} from {self.valid_from.isoformat()}{used}"


def currency_code(value: str, field: str = FIELD) -> str:
    code = (value or "").strip().upper()
    if not _CODE.match(code):
        raise ValidationFailed(
            f"{value!r} is not a three-letter currency code (ISO 4217, e.g. USD).",
            field=field,
        )
    return code


def rate_for(from_currency: str, to_currency: str, on: date) -> AppliedRate | None:
    """The rate in force on ``on``; ``None`` for the same currency (no rate
    needed). ``ReferenceMissing`` when there is none, saying where to add it."""
    source, target = currency_code(from_currency), currency_code(to_currency)
    if source == target:
        return None
    found = []
    directions = ((source, target, False), (target, source, True))
    for stored_from, stored_to, inverted in directions:
        row = (
            CurrencyRate.objects.filter(
                from_currency=stored_from, to_currency=stored_to, valid_from__lte=on
            )
            .order_by("-valid_from")
            .first()
        )
        if row is not None:
            found.append((row.valid_from, not inverted, row, inverted))
    if not found:
        raise ReferenceMissing(
            f"No exchange rate from {source} to {target} on or before "
            f"{on.isoformat()}: add one under Currency rates.",
            field=FIELD,
        )
    _, _, row, inverted = max(found, key=lambda f: (f[0], f[1]))
    return AppliedRate(source, target, row.rate, row.valid_from, inverted, row.pk)


def round_to(amount: Decimal, places: int) -> Decimal:
    return Decimal(amount).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def convert(
    amount: Decimal,
    from_currency: str,
    to_currency: str,
    on: date,
    *,
    places: int = UNIT_PLACES,
) -> Decimal:
    """``amount`` in ``to_currency`` at the rate in force on ``on``, rounded
    half-up to ``places`` (4, for a unit price). The same currency gives the
    amount back unchanged, without looking for a rate."""
    applied = rate_for(from_currency, to_currency, on)
    if applied is None:
        return amount
    return round_to(applied.apply(amount), places)


def extension(quantity: Decimal, unit_price: Decimal) -> Decimal:
    """A line's amount: quantity * (already converted) unit price, to 2 decimals."""
    return round_to(Decimal(quantity) * Decimal(unit_price), AMOUNT_PLACES)
