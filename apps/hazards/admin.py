from django import forms
from django.contrib import admin

from .models import (
    DeadlineExtension,
    Determination,
    DocumentTemplate,
    FollowUp,
    Hazard,
    HazardSuggestion,
    LedgerRule,
    NumberFormat,
    OfficialDocument,
    RuleElement,
    RuleSet,
    Supervision,
)


@admin.register(Hazard)
class HazardAdmin(admin.ModelAdmin):
    list_display = ["id", "institution", "category", "level", "state", "deadline", "found_at"]
    list_filter = ["state", "level", "category", "source"]
    search_fields = ["description", "institution__name"]
    list_select_related = ["institution"]
    raw_id_fields = ["institution", "building", "found_by", "rectified_by", "verified_by"]


class RuleElementInline(admin.TabularInline):
    model = RuleElement
    extra = 0


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    """The bureau edits the determination rules here (elements and counting rules as data).

    New authoritative text is better loaded from a file (the rule sets page or ``load_rule_set``):
    validated, versioned and in the trail as one act.
    """

    list_display = ["code", "name", "number", "effective_from", "effective_until", "hazard_term", "revision",
                    "is_active"]
    list_filter = ["hazard_term", "is_active"]
    inlines = [RuleElementInline]


@admin.register(LedgerRule)
class LedgerRuleAdmin(admin.ModelAdmin):
    """Ledger facts that make a hazard: thresholds, kinds, level and the clause cited are data."""

    list_display = ["code", "fact", "level", "citation", "is_active"]
    list_filter = ["fact", "level", "is_active"]
    raw_id_fields = ["element"]


@admin.register(HazardSuggestion)
class HazardSuggestionAdmin(admin.ModelAdmin):
    list_display = ["institution", "rule", "state", "found_at", "decided_at"]
    list_filter = ["state", "rule"]
    raw_id_fields = ["institution", "building", "hazard", "decided_by"]
    readonly_fields = ["state", "hazard", "decided_by", "decided_at", "reason"]


@admin.register(NumberFormat)
class NumberFormatAdmin(admin.ModelAdmin):
    """Patterns are checked when saved (``NumberFormat.clean``)."""

    list_display = ["series", "pattern"]


class DocumentTemplateForm(forms.ModelForm):
    class Meta:
        model = DocumentTemplate
        fields = ["issuer", "kind", "file"]

    def clean(self):
        data = super().clean()
        upload, kind = data.get("file"), data.get("kind")
        if upload and kind and hasattr(upload, "read"):
            from .documents import template_error

            error = template_error(upload, kind)
            if error:
                self.add_error("file", error)
        return data


@admin.register(DocumentTemplate)
class DocumentTemplateAdmin(admin.ModelAdmin):
    """An issuer's own wording of a document: a .docx (docxtpl) that must render a sample to be saved.
    The shipped templates (apps/hazards/templates/hazards/docx/) are the starting point."""

    form = DocumentTemplateForm
    list_display = ["issuer", "kind", "uploaded"]
    list_filter = ["kind"]


@admin.register(Supervision)
class SupervisionAdmin(admin.ModelAdmin):
    list_display = ["number", "responsible_party", "supervising_department", "deadline", "state"]
    list_filter = ["state"]
    raw_id_fields = ["hazard", "listed_by", "delisted_by"]


@admin.register(OfficialDocument)
class OfficialDocumentAdmin(admin.ModelAdmin):
    list_display = ["number", "kind", "institution", "issuer", "issued_on", "acknowledged_at"]
    list_filter = ["kind"]
    raw_id_fields = ["institution", "supervision", "issued_by", "acknowledged_by"]
    filter_horizontal = ["hazards"]


admin.site.register(FollowUp)
admin.site.register(DeadlineExtension)
admin.site.register(Determination)
