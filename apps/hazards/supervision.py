"""Listed supervision (挂牌督办), follow-ups, deadline extensions, delisting, and the
major-hazard determination. Each act is one function: checked, one transaction, a trail entry."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import daterules
from apps.core.attachments import attach
from apps.core.audit import acting_as, record_action
from apps.core.models import Attachment
from apps.core.notifications import notify
from apps.core.services import check as check_policy

from .choices import (
    ElementGroup,
    ElementKind,
    ExtensionState,
    HazardAction,
    HazardCategory,
    HazardLevel,
    HazardState,
    PlaceType,
    SupervisionState,
)
from .models import (
    DeadlineExtension,
    Determination,
    FollowUp,
    Hazard,
    NumberCounter,
    NumberFormat,
    RuleSet,
    Supervision,
    number_pattern_error,
)
from .services import TransitionRefused, _event, _institution_people, _require, _supervisors


def _refuse_unless(user, capability):
    if not user.can(capability):
        raise TransitionRefused(_("Your role (%(role)s) may not do this.") % {"role": user.get_role_display() or "—"})


def _in_scope(model, user, obj):
    if not model.objects.visible_to(user).filter(pk=obj.pk).exists():
        raise TransitionRefused(_("This record is outside your scope."))


def next_number(series, issuer=None, year=None):
    """Take the next number of ``series`` for ``year`` and ``issuer``: (formatted number, year, seq)."""
    year = year or timezone.localdate().year
    fmt = NumberFormat.for_issuer(series, issuer)
    pattern = fmt.pattern if fmt else "〔{year}〕{n}号"
    error = number_pattern_error(pattern)
    if error:  # saved before patterns were checked: refuse with the reason rather than fail
        raise TransitionRefused(_("The number format of %(series)s is wrong, an administrator must correct it: "
                                  "%(error)s") % {"series": fmt.get_series_display(), "error": error})
    with transaction.atomic():
        counter, _c = NumberCounter.objects.select_for_update().get_or_create(series=series, year=year, issuer=issuer)
        counter.last += 1
        counter.save(update_fields=["last"])
    issuer_name = (issuer.short_name or issuer.name) if issuer is not None else ""
    return pattern.format(year=year, n=counter.last, issuer=issuer_name), year, counter.last


def listing_administration(user, hazard):
    """The administration a listing by ``user`` is made in: the user's own (a township officer or a
    section lists for its district bureau, a city leader for the city); for an account outside the
    tree (a superuser), the district bureau of the hazard's township."""
    from apps.orgs.models import Organization
    from apps.orgs.tree import ancestor_ids

    admin = user.administration
    if admin is None:
        township = Organization.objects.filter(pk=hazard.institution.township_id).first()
        ids = ancestor_ids(township.admin_path) if township else []
        admin = Organization.objects.filter(pk=ids[-1]).first() if ids else None
    return admin


def may_be_listed(hazard):
    """Major hazards (W2.1.2) and hard electrical cases (W2.2.2) go under listed supervision."""
    return hazard.is_major or hazard.category == HazardCategory.ELECTRICAL


def list_supervision(user, hazard, *, supervising_department, deadline, responsible_person, measures,
                     responsibility, emergency_plan, funds=None, responsible_party="", responsible_phone=""):
    """Put a major, open hazard under listed supervision with its five-element plan."""
    _refuse_unless(user, "supervision.list")
    _require(supervising_department=supervising_department, deadline=deadline, responsible_person=responsible_person,
             measures=measures, responsibility=responsibility, emergency_plan=emergency_plan)
    with transaction.atomic(), acting_as(user):
        _in_scope(Hazard, user, hazard)
        hazard = Hazard.objects.select_for_update().select_related("institution").get(pk=hazard.pk)
        if not may_be_listed(hazard):
            raise TransitionRefused(_("Only a major hazard or a hard electrical case is put under listed supervision."))
        if not hazard.is_open:
            raise TransitionRefused(_("The hazard is already closed."))
        current = hazard.supervisions.filter(state=SupervisionState.LISTED).select_related("administration").first()
        if current is not None:
            # One open listing per hazard: a higher level that wants it delists and lists it again.
            raise TransitionRefused(_("The hazard is already under listed supervision (%(n)s, %(level)s).") % {
                "n": current.number, "level": current.get_level_display()})
        administration = listing_administration(user, hazard)
        number, year, seq = next_number("supervision", issuer=administration)
        supervision = Supervision(
            hazard=hazard, number=number, year=year, seq=seq, administration=administration,
            supervising_department=supervising_department,
            deadline=deadline, responsible_party=responsible_party or hazard.institution.name,
            responsible_person=responsible_person, responsible_phone=responsible_phone, measures=measures,
            responsibility=responsibility, funds=funds, emergency_plan=emergency_plan, listed_by=user)
        supervision.full_clean(exclude=["listed_by", "delisted_by"])
        supervision.save()
        if hazard.deadline != deadline:
            hazard.deadline = deadline
            hazard.save()
        record_action(supervision, "supervision.list", actor=user, number=number, deadline=deadline)
        notify(_institution_people(hazard.institution, exclude=user)
               + _supervisors(hazard.institution, exclude=user, include_bureau=True),
               "hazard.major_listed", _("Major hazard listed for supervision %(n)s") % {"n": number},
               url=supervision.get_absolute_url(), target=supervision)
    return supervision


def add_follow_up(user, supervision, *, visited_on, people, findings, photos=()):
    """Log an on-site follow-up visit (上门跟踪) with photos."""
    _refuse_unless(user, "supervision.follow_up")
    _require(visited_on=visited_on, people=people, findings=findings)
    daterules.check(FollowUp, {"visited_on": visited_on})
    with transaction.atomic(), acting_as(user):
        _in_scope(Supervision, user, supervision)
        follow_up = FollowUp.objects.create(supervision=supervision, visited_on=visited_on, people=people,
                                            findings=findings, recorded_by=user)
        for photo in photos or ():
            attach(follow_up, photo, kind=Attachment.Kind.EVIDENCE, user=user)
        record_action(supervision, "supervision.follow_up", actor=user, visited_on=visited_on)
    return follow_up


def request_extension(user, supervision, *, new_deadline, reason):
    _refuse_unless(user, "supervision.request_extension")
    _require(new_deadline=new_deadline, reason=reason)
    daterules.check(DeadlineExtension, {"new_deadline": new_deadline})
    with transaction.atomic(), acting_as(user):
        _in_scope(Supervision, user, supervision)
        if not supervision.is_listed:
            raise TransitionRefused(_("The supervision has ended."))
        if new_deadline <= supervision.deadline:
            raise ValidationError({"new_deadline": _("The new deadline must be later than the current one.")})
        if supervision.extensions.filter(state=ExtensionState.PENDING).exists():
            raise TransitionRefused(_("A request for this supervision is already waiting for a decision."))
        ext = DeadlineExtension.objects.create(supervision=supervision, new_deadline=new_deadline, reason=reason,
                                               requested_by=user)
        record_action(supervision, "supervision.request_extension", actor=user, new_deadline=new_deadline)
        notify(_supervisors(supervision.hazard.institution, exclude=user), "hazard.extension_requested",
               _("Deadline extension requested for %(n)s") % {"n": supervision.number},
               url=supervision.get_absolute_url(), target=supervision, body=reason)
    return ext


def decide_extension(user, extension, *, approve, reason):
    """Approve (the deadline moves) or refuse a pending extension, with the reason."""
    _refuse_unless(user, "supervision.decide_extension")
    _require(reason=reason)
    with transaction.atomic(), acting_as(user):
        _in_scope(DeadlineExtension, user, extension)
        extension = DeadlineExtension.objects.select_for_update(of=("self",)).select_related(
            "supervision__administration").get(pk=extension.pk)
        check_policy(user, "supervision.decide_extension", extension)
        if extension.state != ExtensionState.PENDING:
            raise TransitionRefused(_("This request has already been decided."))
        extension.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
        extension.decided_by, extension.decided_at, extension.decision_reason = user, timezone.now(), reason
        extension.save()
        supervision = extension.supervision
        if approve:
            supervision.deadline = extension.new_deadline
            supervision.save()
            hazard = supervision.hazard
            hazard.deadline = extension.new_deadline
            hazard.save()
        record_action(supervision, "supervision.decide_extension", actor=user, approved=approve, reason=reason)
        notify(_institution_people(supervision.hazard.institution, exclude=user), "hazard.extension_decided",
               (_("Extension approved for %(n)s") if approve else _("Extension refused for %(n)s"))
               % {"n": supervision.number}, url=supervision.get_absolute_url(), target=supervision, body=reason)
    return extension


def delist(user, supervision, *, note):
    """End the supervision (摘牌), only once the hazard is verified and closed."""
    _refuse_unless(user, "supervision.delist")
    _require(note=note)
    with transaction.atomic(), acting_as(user):
        _in_scope(Supervision, user, supervision)
        supervision = Supervision.objects.select_for_update(of=("self",)).select_related("hazard", "administration").get(
            pk=supervision.pk)
        check_policy(user, "supervision.delist", supervision)
        if not supervision.is_listed:
            raise TransitionRefused(_("The supervision has already ended."))
        if supervision.hazard.state != HazardState.CLOSED:
            raise TransitionRefused(_("Delisting is possible only after the hazard is verified and closed."))
        supervision.state = SupervisionState.DELISTED
        supervision.delisted_at, supervision.delisted_by, supervision.delisting_note = timezone.now(), user, note
        supervision.save()
        record_action(supervision, "supervision.delist", actor=user, note=note)
    return supervision


# --- major-hazard determination ---------------------------------------------------------------

def place_type(crowded_place, underground=False):
    """The kind of place a determination is about, as the GB 35181 elements name them."""
    if crowded_place:
        return PlaceType.UNDERGROUND_CROWDED if underground else PlaceType.CROWDED
    return PlaceType.OTHER


def evaluate(rule_set, elements, crowded_place=True, underground=False, fixed_on_spot=False):
    """The rules' suggestion: (level, reasons). The counting rules come from ``rule_set.params``:

    - ``crowded_evacuation_min`` of the elements ``crowded_evacuation_codes`` (default: the evacuation
      group) in a crowded place make it major (GB 35181-2017: 3 of 7.3.1–7.3.9);
    - ``crowded_comprehensive_min`` comprehensive elements in a crowded place (2017: 4), and
      ``comprehensive_min`` anywhere else (2017: 6);
    - any direct element makes it major; an element limited to some kinds of place (``place_types``,
      2017 §6.5) counts only there; nothing counts for a hazard put right on the spot.
    """
    term = rule_set.get_hazard_term_display()
    elements = [e for e in elements if e.rule_set_id == rule_set.pk]
    if fixed_on_spot and elements:
        return HazardLevel.GENERAL, [_("Put right on the spot: elements count only when the hazard cannot be "
                                       "corrected at once, so none counts.")]
    place = place_type(crowded_place, underground)
    reasons, counted = [], []
    for e in elements:
        if e.place_types and place not in e.place_types:
            reasons.append(_("%(code)s applies only to %(places)s; it is not counted here.") % {
                "code": e.code, "places": "、".join(str(PlaceType(p).label) for p in e.place_types)})
        else:
            counted.append(e)
    direct = [e for e in counted if e.kind == ElementKind.DIRECT]
    for e in direct:
        reasons.append(_("Direct element %(code)s present: %(text)s") % {"code": e.code, "text": e.text})
    comprehensive = [e for e in counted if e.kind == ElementKind.COMPREHENSIVE]
    params = rule_set.params or {}
    evac_codes = params.get("crowded_evacuation_codes")
    evac = [e for e in comprehensive if (e.code in evac_codes if evac_codes else e.group == ElementGroup.EVACUATION)]
    evac_min = params.get("crowded_evacuation_min")
    total_min = params.get("crowded_comprehensive_min" if crowded_place else "comprehensive_min")
    major = bool(direct)
    if crowded_place and evac_min and len(evac) >= evac_min:
        major = True
        reasons.append(_("Crowded place with %(n)d evacuation elements (%(codes)s): %(min)d or more make it a "
                         "%(term)s.") % {"n": len(evac), "codes": "、".join(e.code for e in evac), "min": evac_min,
                                         "term": term})
    if total_min and len(comprehensive) >= total_min:
        major = True
        reasons.append(_("%(place)s with %(n)d comprehensive elements: %(min)d or more make it a %(term)s.")
                       % {"place": PlaceType(place).label if crowded_place else PlaceType.OTHER.label,
                          "n": len(comprehensive), "min": total_min, "term": term})
    if not major:
        reasons.append(_("No direct element, and %(n)d comprehensive elements (%(e)d of evacuation) do not reach "
                         "the counting rule.") % {"n": len(comprehensive), "e": len(evac)})
    return (HazardLevel.MAJOR if major else HazardLevel.GENERAL), reasons


def applicable_rule_sets(hazard):
    """The rule sets a finding falls under: those in force on the day it was found, for the institution's kind."""
    township = hazard.institution.township
    return RuleSet.objects.applicable(hazard.institution.kind, timezone.localdate(hazard.found_at),
                                      path=township.path if township is not None else "")


def determine(user, hazard, *, rule_set, elements, crowded_place, decided_level, basis, underground=False):
    """Record a person's decision on the level, with the rules' suggestion and the basis; sets the level.

    The rule set must be one the finding falls under (its date, the institution's kind).
    """
    _refuse_unless(user, "hazard.determine")
    _require(basis=basis, decided_level=decided_level)
    elements = list(elements)
    if any(e.rule_set_id != rule_set.pk for e in elements):
        raise ValidationError({"elements": _("The elements must belong to the chosen rule set.")})
    with transaction.atomic(), acting_as(user):
        _in_scope(Hazard, user, hazard)
        hazard = Hazard.objects.select_for_update().select_related("institution").get(pk=hazard.pk)
        if not applicable_rule_sets(hazard).filter(pk=rule_set.pk).exists():
            raise ValidationError({"rule_set": _("%(set)s does not apply to a %(kind)s for a finding of %(date)s.") % {
                "set": rule_set.name, "kind": hazard.institution.get_kind_display(),
                "date": timezone.localdate(hazard.found_at).isoformat()}})
        if hazard.fixed_on_spot and decided_level == HazardLevel.MAJOR:
            raise ValidationError({"decided_level": _("A hazard fixed on the spot never counts as major.")})
        suggested, reasons = evaluate(rule_set, elements, crowded_place, underground, hazard.fixed_on_spot)
        det = Determination.objects.create(
            hazard=hazard, rule_set=rule_set, rule_set_revision=rule_set.revision, crowded_place=crowded_place,
            underground=underground, suggested_level=suggested,
            suggestion_reasons=[str(r) for r in reasons], decided_level=decided_level, basis=basis,
            decided_by=user, decided_by_name=user.display_name)
        det.elements.set(elements)
        before = hazard.level
        if before != decided_level:
            hazard.level = decided_level
            hazard.save()
        _event(hazard, HazardAction.DETERMINE, user, hazard.state, hazard.state,
               f"{det.conclusion}：{basis}")
        record_action(hazard, "hazard.determine", actor=user, rule_set=rule_set.code, revision=rule_set.revision,
                      elements=[e.code for e in elements], suggested=suggested, decided=decided_level)
        if decided_level == HazardLevel.MAJOR and before != HazardLevel.MAJOR:
            notify(_institution_people(hazard.institution, exclude=user)
                   + _supervisors(hazard.institution, exclude=user), "hazard.major_determined",
                   _("Determined a major hazard: %(d)s") % {"d": hazard.description[:50]},
                   url=hazard.get_absolute_url(), target=hazard)
    return det
