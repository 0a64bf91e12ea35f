"""Base form that scopes its related-object choices and styles widgets for Bootstrap."""
from django import forms

from . import policy


class BootstrapMixin:
    def _style(self):
        for field in self.fields.values():
            w = field.widget
            if isinstance(w, forms.CheckboxInput):
                w.attrs.setdefault("class", "form-check-input")
            elif isinstance(w, forms.Select | forms.SelectMultiple):
                w.attrs.setdefault("class", "form-select")
            elif isinstance(w, forms.CheckboxSelectMultiple | forms.RadioSelect):
                pass
            else:
                w.attrs.setdefault("class", "form-control")
            if isinstance(w, forms.DateInput):
                w.input_type = "date"
                w.format = "%Y-%m-%d"
            if isinstance(w, forms.DateTimeInput):
                w.input_type = "datetime-local"
                w.format = "%Y-%m-%dT%H:%M"
            if isinstance(w, forms.Textarea):
                w.attrs.setdefault("rows", 3)


class ScopedModelForm(BootstrapMixin, forms.ModelForm):
    """A ModelForm whose foreign-key choices contain only rows the user may see, and whose fields
    the user's role may not change (``apps.core.policy`` field rules) are shown disabled; a posted
    change to one of them is refused with an error, never silently dropped."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to"):
                field.queryset = qs.visible_to(user)
        self.locked = policy.locked_fields(user, self._meta.model) & set(self.fields)
        for name in self.locked:
            self.fields[name].disabled = True
        self._style()

    def clean(self):
        data = super().clean()
        for name in self.locked:
            field = self.fields[name]
            key = self.add_prefix(name)
            if key not in self.data:
                continue
            field.disabled = False  # compare what was posted with what is stored
            try:
                changed = field.has_changed(self.get_initial_for_field(field, name),
                                            field.widget.value_from_datadict(self.data, self.files, key))
            finally:
                field.disabled = True
            if changed:
                self.add_error(None, policy.field_refusals(self.user, self._meta.model, [name])[name]
                               + f" ({field.label})")
        return data


class ScopedForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to"):
                field.queryset = qs.visible_to(user)
        self._style()
