"""Ledger → hazards: facts in the ledger that a standard makes a hazard, offered as suggestions.

Which facts count where, with which thresholds and which clause cited, is data (``LedgerRule``);
the tests of the facts are the functions in ``FACTS``. ``scan`` runs the rules (on demand, after a
ledger change, and with the scheduled jobs); a township office accepts a suggestion (the hazard is
registered through the hazards service) or dismisses it with a reason. Both leave a trail.
"""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import acting_as, record_action

from .choices import HazardSource, LedgerFact, SuggestionState
from .models import HazardSuggestion, LedgerRule
from .services import TransitionRefused, report_hazard


def _building_rating(rule, institution, today):
    ratings = rule.params.get("ratings", ["C", "D"])
    return [(b, _("rated %(r)s") % {"r": b.safety_rating}) for b in institution.buildings.all()
            if b.safety_rating in ratings]


def _colour_steel(rule, institution, today):
    return [(b, "") for b in institution.buildings.all() if b.colour_steel == "combustible"]


def _size_reached(rule, institution):
    params = rule.params
    buildings = list(institution.buildings.all())
    area = sum(float(b.area_m2 or 0) for b in buildings)
    floors = max((b.floors_above for b in buildings), default=0)
    return (institution.beds >= params.get("min_beds", 0) and area >= params.get("min_area_m2", 0)
            and floors >= params.get("min_floors", 0))


def _facility_absent(rule, institution, today):
    field = rule.params["field"]
    if getattr(institution, field) or not _size_reached(rule, institution):
        return []
    return [(None, "")]


def _facility_test_overdue(rule, institution, today):
    if not any(getattr(institution, f) for f in rule.params.get("if_any", ["has_auto_alarm", "has_sprinklers"])):
        return []
    last = institution.last_facility_test
    if last is None:
        return [(None, _("no full test recorded"))]
    if (today - last).days > rule.params.get("days", 365):
        return [(None, _("last full test on %(d)s") % {"d": last.isoformat()})]
    return []


def _maintenance_overdue(rule, institution, today):
    if not any(getattr(institution, f) for f in rule.params.get("if_any", ["has_auto_alarm", "has_sprinklers"])):
        return []
    until = institution.maintenance_contract_until
    if until is None:
        return [(None, _("no maintenance contract recorded"))]
    if until < today:
        return [(None, _("contract ended on %(d)s") % {"d": until.isoformat()})]
    return []


def _operators_uncertified(rule, institution, today):
    names = [s.name for s in institution.staff_members.all()
             if "control_room" in (s.roles or []) and s.is_active_on(today)
             and (not s.certificate_no or (s.certificate_expires is not None and s.certificate_expires < today))]
    return [(None, "、".join(names))] if names else []


FACTS = {
    LedgerFact.BUILDING_RATING: _building_rating,
    LedgerFact.COLOUR_STEEL: _colour_steel,
    LedgerFact.FACILITY_ABSENT: _facility_absent,
    LedgerFact.FACILITY_TEST_OVERDUE: _facility_test_overdue,
    LedgerFact.MAINTENANCE_OVERDUE: _maintenance_overdue,
    LedgerFact.OPERATORS_UNCERTIFIED: _operators_uncertified,
}


def _describe(rule, building, detail):
    text = rule.description.replace("{building}", building.name if building else "").replace("{detail}", detail)
    return text.strip()


def scan(institutions=None, today=None):
    """Run the active ledger rules over ``institutions`` (default: every institution in operation).

    New facts become open suggestions; an open suggestion whose fact is gone is marked resolved, and
    raised again if the fact comes back. Accepted and dismissed suggestions stay as they were.
    Returns the number of suggestions opened.
    """
    from apps.ledger.models import Building, Institution
    from apps.training.models import StaffMember

    today = today or timezone.localdate()
    rules = list(LedgerRule.objects.filter(is_active=True))
    qs = Institution.objects.filter(is_active=True) if institutions is None else Institution.objects.filter(
        pk__in=[i.pk for i in institutions], is_active=True)
    qs = qs.prefetch_related(Prefetch("buildings", queryset=Building.objects.order_by("pk")),
                             Prefetch("staff_members", queryset=StaffMember.objects.order_by("pk")))
    opened = 0
    for institution in qs:
        existing = {(s.rule_id, s.building_id): s for s in HazardSuggestion.objects.filter(institution=institution)}
        seen = set()
        for rule in rules:
            if not rule.applies_to_kind(institution.kind):
                continue
            for building, detail in FACTS[rule.fact](rule, institution, today):
                key = (rule.pk, building.pk if building else None)
                seen.add(key)
                suggestion = existing.get(key)
                description = _describe(rule, building, detail)
                if suggestion is None:
                    with transaction.atomic():
                        suggestion = HazardSuggestion.objects.create(institution=institution, building=building,
                                                                     rule=rule, description=description)
                        record_action(suggestion, "hazard.suggest", rule=rule.code, citation=rule.citation)
                    opened += 1
                elif suggestion.state == SuggestionState.RESOLVED or (
                        suggestion.state == SuggestionState.OPEN and suggestion.description != description):
                    if suggestion.state == SuggestionState.RESOLVED:
                        opened += 1
                    suggestion.state, suggestion.description = SuggestionState.OPEN, description
                    suggestion.save()
        for key, suggestion in existing.items():
            if key not in seen and suggestion.state == SuggestionState.OPEN:
                suggestion.state = SuggestionState.RESOLVED
                suggestion.save()
    return opened


def _decide_checks(user, suggestion):
    if not user.can("suggestion.decide"):
        raise TransitionRefused(_("Your role (%(role)s) may not do this.") % {"role": user.get_role_display() or "—"})
    if not HazardSuggestion.objects.visible_to(user).filter(pk=suggestion.pk).exists():
        raise TransitionRefused(_("This record is outside your scope."))


def accept(user, suggestion, *, note=""):
    """Register the suggested hazard through the hazards service (its source is the suggestion)."""
    _decide_checks(user, suggestion)
    with transaction.atomic(), acting_as(user):
        # Lock the suggestion row only (PostgreSQL refuses FOR UPDATE on the nullable side of the building join).
        suggestion = HazardSuggestion.objects.select_for_update(of=("self",)).select_related(
            "rule", "institution", "building").get(pk=suggestion.pk)
        if not suggestion.is_open:
            raise TransitionRefused(_("This suggestion has already been decided."))
        rule = suggestion.rule
        hazard = report_hazard(user, suggestion.institution, category=rule.category, level=rule.level,
                               description=_("%(description)s (basis: %(citation)s)") % {
                                   "description": suggestion.description, "citation": rule.citation},
                               source=HazardSource.LEDGER, source_object=suggestion, building=suggestion.building)
        suggestion.state, suggestion.hazard = SuggestionState.ACCEPTED, hazard
        suggestion.decided_by, suggestion.decided_at, suggestion.reason = user, timezone.now(), note
        suggestion.save()
        record_action(suggestion, "hazard.suggestion_accept", actor=user, hazard=hazard.pk, rule=rule.code)
    return hazard


def dismiss(user, suggestion, *, reason):
    """Set a suggestion aside; the reason is required and kept."""
    _decide_checks(user, suggestion)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for dismissing the suggestion.")})
    with transaction.atomic(), acting_as(user):
        suggestion = HazardSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if not suggestion.is_open:
            raise TransitionRefused(_("This suggestion has already been decided."))
        suggestion.state = SuggestionState.DISMISSED
        suggestion.decided_by, suggestion.decided_at, suggestion.reason = user, timezone.now(), reason.strip()
        suggestion.save()
        record_action(suggestion, "hazard.suggestion_dismiss", actor=user, reason=reason.strip())
    return suggestion


def scan_after_ledger_change(institution_id):
    """Queue a scan of one institution when the surrounding transaction commits."""
    from apps.ledger.models import Institution

    def run():
        institution = Institution.objects.filter(pk=institution_id).first()
        if institution is not None:
            scan([institution])

    transaction.on_commit(run)


def institution_saved(sender, instance, raw=False, **kwargs):
    """post_save of an institution (connected in ``HazardsConfig.ready``)."""
    if not raw:
        scan_after_ledger_change(instance.pk)


def ledger_part_changed(sender, instance, raw=False, **kwargs):
    """post_save/post_delete of a building or a staff member (connected in ``HazardsConfig.ready``)."""
    if not raw:
        scan_after_ledger_change(instance.institution_id)
