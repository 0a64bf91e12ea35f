"""Actions of the assessment app: record a fire and its accountability, draft and sign assessments."""
from collections import defaultdict
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import acting_as, record_action
from apps.core.policy import can

from .choices import AssessmentState, FactorGroup
from .models import AccountabilityAction, Assessment, AssessmentAnswer, AssessmentQuestion, FireIncident
from .risk import risk_of


def _require(user, rule):
    if not can(user, rule):
        raise PermissionDenied(_("Your role may not do this."))


def record_incident(user, incident: FireIncident):
    """Save a fire incident (new or edited) with its trail."""
    _require(user, "incident.record")
    incident.full_clean(exclude=["reported_by"])
    with transaction.atomic(), acting_as(user):
        created = incident.pk is None
        if created:
            incident.reported_by = user
        incident.save()
        if created:
            record_action(incident, "incident.record", actor=user, deaths=incident.deaths,
                          injuries=incident.injuries)
    return incident


def add_accountability(user, incident, *, target, name, measure, decided_on):
    _require(user, "incident.accountability")
    action = AccountabilityAction(incident=incident, target=target, name=name, measure=measure,
                                  decided_on=decided_on)
    action.full_clean()
    with transaction.atomic(), acting_as(user):
        action.save()
    return action


def suggestions(result, answers=()):
    """Prominent problems, weak links and countermeasures suggested from the heaviest factors."""
    top = result.top_factors(6) if result else []
    # Whole sentences through gettext: xgettext does not see a call inside an f-string.
    problems = [_("%(factor)s (contribution %(value)s)") % {"factor": f.label, "value": f"{f.contribution:g}"}
                for f in top]
    problems += [_("%(question)s — answered no") % {"question": a.question.text}
                 for a in answers if a.answer == AssessmentAnswer.Answer.NO]
    by_group = defaultdict(float)
    for f in (result.factors if result else []):
        by_group[f.group] += f.contribution
    weak = [f"{FactorGroup(g).label}：{v:g}" for g, v in sorted(by_group.items(), key=lambda kv: -kv[1]) if v > 0]
    measures = list(dict.fromkeys(f.countermeasure for f in top if f.countermeasure))
    return {"problems": "\n".join(problems), "weak_links": "\n".join(weak[:3]),
            "countermeasures": "\n".join(f"{i}. {m}" for i, m in enumerate(measures, 1))}


def start_assessment(user, institution, period):
    """Draft an assessment: the computed indicators now, and suggested texts to edit."""
    _require(user, "assessment.edit")
    if Assessment.objects.filter(institution=institution, period=period).exists():
        raise ValidationError({"period": _("This institution already has an assessment for this period.")})
    result = risk_of(institution)
    with transaction.atomic(), acting_as(user):
        assessment = Assessment(institution=institution, period=period, created_by=user,
                                score=Decimal(str(result.score)) if result else None, level=result.level if result else "",
                                indicators=result.factors_json() if result else [], **suggestions(result))
        assessment.full_clean(exclude=["created_by", "signed_by"])
        assessment.save()
    return assessment


def save_assessment(user, assessment, *, answers, problems, weak_links, countermeasures):
    """Save the questionnaire answers and the edited texts of a draft."""
    _require(user, "assessment.edit")
    if assessment.is_signed:
        raise ValidationError(_("A signed assessment cannot be changed."))
    questions = {q.pk: q for q in AssessmentQuestion.objects.filter(is_active=True)}
    with transaction.atomic(), acting_as(user):
        for qid, (answer, note) in answers.items():
            if qid not in questions or answer not in AssessmentAnswer.Answer.values:
                raise ValidationError(_("Unknown question or answer."))
            AssessmentAnswer.objects.update_or_create(assessment=assessment, question_id=qid,
                                                      defaults={"answer": answer, "note": note[:300]})
        assessment.problems, assessment.weak_links, assessment.countermeasures = problems, weak_links, countermeasures
        assessment.save()
    return assessment


def sign_assessment(user, assessment):
    """Sign the assessment; it is then final. Needs every active question answered."""
    _require(user, "assessment.sign")
    if assessment.is_signed:
        raise ValidationError(_("The assessment is already signed."))
    answered = set(assessment.answers.values_list("question_id", flat=True))
    missing = AssessmentQuestion.objects.filter(is_active=True).exclude(pk__in=answered).count()
    if missing:
        raise ValidationError(_("%(n)d questions are not answered yet.") % {"n": missing})
    if not assessment.countermeasures.strip():
        raise ValidationError(_("Write the countermeasures before signing."))
    with transaction.atomic(), acting_as(user):
        assessment.state = AssessmentState.SIGNED
        assessment.signed_by = user
        assessment.signer_name = user.display_name[:50]
        assessment.signed_at = timezone.now()
        assessment.save()
        record_action(assessment, "assessment.sign", actor=user)
    return assessment


# ---------------------------------------------------------------- risk models by level


def _risk_model_in_force(path, exclude=None):
    from apps.orgs.rules import effective

    from .models import RiskModel

    models = [m for m in RiskModel.objects.filter(is_active=True).select_related("administration")
              if m.pk != exclude]
    return effective(models, path, looser=RiskModel.looser)


def save_risk_model(user, model):
    """Add or change a risk model of an administration (rules by level, ``apps.orgs.rules``).

    A new model belongs to the user's own administration and starts with the factors of the model in
    force there (an administration sets its own bands; its factors are then tuned in 管理). Saving a
    model active switches off the administration's other active model (one active per
    administration). Refused with the reason when its bands are looser (a higher score needed for a
    level) than those of a model a higher level set by law."""
    from apps.orgs.rulepages import save_rule

    from .models import RiskModel

    base = {}

    def before(rule):
        if rule.pk is None:
            base["model"] = _risk_model_in_force(rule.administration.path if rule.administration_id else "")
        if rule.is_active:
            with acting_as(user):
                for other in RiskModel.objects.filter(is_active=True, administration_id=rule.administration_id
                                                      ).exclude(pk=rule.pk):
                    other.is_active = False
                    other.save(update_fields=["is_active"])

    def after(rule, created):
        source = base.get("model")
        if created and source is not None:
            with acting_as(user):
                for factor in source.factors.order_by("order", "pk"):
                    factor.pk = factor.id = None
                    factor.model = rule
                    factor._state.adding = True
                    factor.save()

    held = RiskModel.objects.filter(is_active=True, overridable=False).select_related("administration")
    return save_rule(user, "riskmodel.override", model, held=held, looser=RiskModel.looser,
                     before_write=before, after_write=after)
