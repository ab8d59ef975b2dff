from decimal import Decimal

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from simple_history.models import HistoricalRecords

iso_currency = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code.")


class CurrencyRate(models.Model):
    """How many units of ``to_currency`` one unit of ``from_currency`` buys.

    Admin-edited; the rate in force on a document's date is the newest one whose
    ``valid_from`` is not after that date, so history stays reproducible.
    """

    from_currency = models.CharField(max_length=3, validators=[iso_currency])
    to_currency = models.CharField(max_length=3, validators=[iso_currency])
    rate = models.DecimalField(
        max_digits=18,
        decimal_places=8,
        validators=[MinValueValidator(Decimal("0.00000001"))],
    )
    valid_from = models.DateField()
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["from_currency", "to_currency", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["from_currency", "to_currency", "valid_from"],
                name="currencyrate_one_rate_per_day",
            ),
            models.CheckConstraint(
                condition=models.Q(rate__gt=0), name="currencyrate_rate_positive"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_currency=models.F("to_currency")),
                name="currencyrate_distinct_currencies",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"1 {self.from_currency} = {self.rate} {self.to_currency} "
            f"from {self.valid_from}"
        )
