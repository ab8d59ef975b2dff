"""Build the POST a browser would send for an admin form the test just fetched."""

from __future__ import annotations

from django import forms


def _add_form(data: dict, form: forms.BaseForm) -> None:
    for name in form.fields:
        bound = form[name]
        value = bound.value()
        if isinstance(bound.field.widget, forms.CheckboxInput):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = value


def form_data(response, **overrides) -> dict:
    """The change form's current values, inlines included, with ``overrides``."""
    context = response.context
    data: dict = {}
    _add_form(data, context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    data.update(overrides)
    return data
