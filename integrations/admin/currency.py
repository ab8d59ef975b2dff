"""Currency rates: entered by finance staff, dated, never silently overwritten."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from integrations.models import CurrencyRate


class CurrencyRateForm(forms.ModelForm):
    class Meta:
        model = CurrencyRate
        fields = ("from_currency", "to_currency", "rate", "valid_from", "note")
        help_texts = {
            "from_currency": "Three letters, e.g. EUR.",
            "to_currency": "Three letters, e.g. USD.",
            "rate": "How many units of the second currency one unit of the first "
            "buys, e.g. 1.08 for 1 EUR = 1.08 USD.",
            "valid_from": "Used for documents dated on or after this day, until a "
            "newer rate starts.",
        }
        error_messages = {
            "rate": {"required": "Enter the rate, e.g. 1.08."},
            "valid_from": {"required": "Enter the first day this rate applies."},
        }

    def clean_from_currency(self) -> str:
        return (self.cleaned_data.get("from_currency") or "").strip().upper()

    def clean_to_currency(self) -> str:
        return (self.cleaned_data.get("to_currency") or "").strip().upper()

    def clean_rate(self) -> Decimal:
        rate = self.cleaned_data.get("rate")
        if rate is not None and rate <= 0:
            raise forms.ValidationError("The rate must be more than zero.")
        return rate

    def clean(self) -> dict:
        """Plain words for what the table's constraints would otherwise refuse."""
        data = super().clean()
        source, target = data.get("from_currency"), data.get("to_currency")
        day = data.get("valid_from")
        if source and target and source == target:
            self.add_error(
                "to_currency",
                f"Choose a currency other than {source}: a rate converts between "
                "two different currencies.",
            )
        elif source and target and day:
            clash = CurrencyRate.objects.filter(
                from_currency=source, to_currency=target, valid_from=day
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    "valid_from",
                    f"There is already a {source} → {target} rate from "
                    f"{day.isoformat()}: change that one, or pick another day.",
                )
        return data


@admin.register(CurrencyRate)
class CurrencyRateAdmin(SimpleHistoryAdmin):
    form = CurrencyRateForm
    list_display = (
        "from_currency",
        "to_currency",
        "rate",
        "inverse",
        "valid_from",
        "note",
        "created_at",
    )
    list_display_links = ("from_currency", "to_currency")
    list_filter = ("from_currency", "to_currency", "valid_from")
    search_fields = ("from_currency", "to_currency", "note")
    search_help_text = "Matches either currency code or the note."
    date_hierarchy = "valid_from"
    ordering = ("from_currency", "to_currency", "-valid_from")
    readonly_fields = ("created_at",)
    list_per_page = 100

    @admin.display(description="inverse (1 / rate)")
    def inverse(self, obj: CurrencyRate) -> str:
        return f"{(Decimal(1) / obj.rate).quantize(Decimal('0.00000001'))}"
