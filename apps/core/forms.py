"""Base form that scopes its related-object choices and styles widgets for Bootstrap."""
from django import forms


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
    """A ModelForm whose foreign-key choices contain only rows the user may see."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to"):
                field.queryset = qs.visible_to(user)
        self._style()


class ScopedForm(BootstrapMixin, forms.Form):
    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            qs = getattr(field, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to"):
                field.queryset = qs.visible_to(user)
        self._style()
