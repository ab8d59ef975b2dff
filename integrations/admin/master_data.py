"""Two-way master data in the admin: who wins each field, and each linked pair.

Field owners are configuration (Integration admin); the links are the sync's
memory, shown read-only so a person can see what both sides last agreed on,
which fields wait for a decision, and when we last wrote to each side.
Deleting a link makes the next change of either record link it afresh.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from integrations.models import (
    Connection,
    MasterDataFieldRule,
    MasterDataLink,
    System,
)
from integrations.services import master_data_fields
from integrations.services.master_data import show

LABELS = {
    "customer": "Customers",
    "vendor": "Vendors",
    "item": "Items",
}


def _defaults_text() -> str:
    parts = []
    for kind in master_data_fields.KINDS:
        entity = master_data_fields.entity(kind)
        owners = ", ".join(
            f"{spec.name} ({spec.label}: {_owner_words(spec.default_owner)})"
            for spec in entity.fields
        )
        parts.append(f"{LABELS[kind]}: {owners}.")
    return " ".join(parts)


def _owner_words(owner: str) -> str:
    return {
        "sage100": "Sage 100 wins",
        "xero": "Xero wins",
        "newest": "later change wins",
        "ask": "ask",
        "sage100_only": "Sage 100 only",
        "xero_only": "Xero only",
    }[owner]


class FieldRuleForm(forms.ModelForm):
    field = forms.ChoiceField(
        choices=sorted(
            {
                (name, name)
                for kind in master_data_fields.KINDS
                for name in master_data_fields.field_names(kind)
            }
        ),
        help_text="Without a rule a field follows its default. " + _defaults_text(),
    )

    class Meta:
        model = MasterDataFieldRule
        fields = (
            "kind",
            "sage_connection",
            "xero_connection",
            "field",
            "owner",
            "note",
        )
        help_texts = {
            "owner": "What happens when both Sage 100 and Xero changed this field "
            "since the last sync. A change made on one side only always reaches "
            'the other, except with "… only", which undoes changes made on the '
            "other side.",
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sage_connection"].queryset = Connection.objects.filter(
            system=System.SAGE100
        )
        self.fields["xero_connection"].queryset = Connection.objects.filter(
            system=System.XERO
        )

    def clean(self) -> dict:
        data = super().clean()
        kind, name = data.get("kind"), data.get("field")
        if kind and name and name not in master_data_fields.field_names(kind):
            self.add_error(
                "field",
                f"{LABELS[kind]} have no field {name!r}: choose one of "
                f"{', '.join(master_data_fields.field_names(kind))}.",
            )
        pair = (kind, data.get("sage_connection"), data.get("xero_connection"))
        if all(pair) and name:
            clash = MasterDataFieldRule.objects.filter(
                kind=kind,
                sage_connection=pair[1],
                xero_connection=pair[2],
                field=name,
            ).exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error(
                    "field",
                    f"{LABELS[kind]} already have a rule for {name} between these "
                    "connections: change that one.",
                )
        return data


@admin.register(MasterDataFieldRule)
class MasterDataFieldRuleAdmin(SimpleHistoryAdmin):
    form = FieldRuleForm
    list_display = (
        "kind",
        "field",
        "owner",
        "sage_connection",
        "xero_connection",
        "note",
        "updated_at",
    )
    list_display_links = ("field",)
    list_editable = ("owner",)
    list_filter = ("kind", "owner", "sage_connection", "xero_connection")
    list_select_related = ("sage_connection", "xero_connection")
    search_fields = ("field", "note")
    readonly_fields = ("updated_at",)


@admin.register(MasterDataLink)
class MasterDataLinkAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "sage_key",
        "xero_id",
        "waiting",
        "synced_at",
        "sage_written_at",
        "xero_written_at",
    )
    list_display_links = ("sage_key",)
    list_filter = ("kind", "sage_connection", "xero_connection")
    list_select_related = ("sage_connection", "xero_connection")
    search_fields = ("sage_key", "xero_id")
    search_help_text = "A Sage key (01-ABF, an ItemCode) or a Xero id."
    fields = (
        "kind",
        "sage_connection",
        "sage_key",
        "xero_connection",
        "xero_id",
        "agreed",
        "waiting_detail",
        "synced_at",
        "sage_written_at",
        "xero_written_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False  # links are made by the sync (or by a cross-reference)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="waiting for a decision")
    def waiting(self, obj: MasterDataLink) -> str:
        return ", ".join(sorted(obj.conflicts)) or "—"

    @admin.display(description="what both sides last agreed on")
    def agreed(self, obj: MasterDataLink):
        rows = [
            (name, show(obj.sage_values.get(name)), show(obj.xero_values.get(name)))
            for name in sorted(obj.sage_values)
        ]
        if not rows:
            return "Nothing yet."
        return format_html(
            "<table><tr><th>field</th><th>Sage 100</th><th>Xero</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    @admin.display(description="fields waiting for a decision")
    def waiting_detail(self, obj: MasterDataLink):
        if not obj.conflicts:
            return "None."
        return format_html_join(
            "",
            "<p>{}: Sage 100 has {}, Xero has {}.</p>",
            (
                (
                    value.get("label", name),
                    show(value.get("sage")),
                    show(value.get("xero")),
                )
                for name, value in sorted(obj.conflicts.items())
            ),
        )
