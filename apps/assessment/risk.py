"""The risk engine: score many institutions at once from the active ``RiskModel``.

Every factor names a bulk provider (a dotted path). The engine calls each provider ONCE for
all the institutions asked about, so scoring 10 or 10,000 institutions costs the same number
of queries. A provider whose app is not installed (or not yet built) is reported as
unavailable and contributes nothing; it never invents a value.
"""
import datetime
import inspect
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from importlib import import_module

from django.db import transaction
from django.utils import timezone

from .choices import LEVEL_RANK, RiskLevel

# Metrics also stored as columns of InstitutionRisk (for the cockpit's SQL counts).
STORED_METRICS = ("patrol_ok", "missed_patrols_30d", "inspection_ok", "drill_ok", "people_overdue")


@dataclass
class FactorResult:
    key: str
    label: str
    group: str
    value: object
    severity: float
    weight: float
    contribution: float
    available: bool = True
    min_level: str = ""
    countermeasure: str = ""
    metric: str = ""
    applicable: bool = True  # False: the factor does not apply to the institution's kind
    present: bool | None = None  # for a yes/no factor: whether its (risky) statement is true
    note: str = ""  # the provider's word on the value, e.g. the clause that requires a facility
    lift_rule: str = ""
    lifted: bool = False  # this factor lifted the level above the band of the score


@dataclass
class RiskResult:
    institution_id: int
    score: float
    level: str
    model_version: str
    factors: list = field(default_factory=list)
    band: str = ""  # the level of the score alone, before any rule lifted it

    @property
    def lifted_by(self):
        """The factors whose rule lifted the level (each names its rule)."""
        return [f for f in self.factors if f.lifted]

    def top_factors(self, n=5):
        """The factors that weigh most for this institution (present ones only)."""
        present = [f for f in self.factors if f.contribution > 0]
        return sorted(present, key=lambda f: -f.contribution)[:n]

    def factors_json(self):
        return [asdict(f) for f in self.factors]

    def metric(self, name):
        """The value of ``name`` as read by an available factor (None otherwise)."""
        return next((f.value for f in self.factors if f.metric == name and f.available), None)


def active_model():
    """The active platform-default risk model with its active factors (two queries)."""
    from .models import RiskModel

    model = RiskModel.objects.filter(is_active=True, administration__isnull=True).first()
    if model is None:
        return None
    model.active_factors = list(model.factors.filter(is_active=True).order_by("order", "id"))
    return model


def models_for(institution_ids):
    """[(risk model in force, [institution ids])] (rules by level, ``apps.orgs.rules``): an
    administration's active model applies to the institutions under it, else the platform default.

    While no administration has a model of its own: the default for all, in the same two queries
    as before; otherwise one query for the institutions' paths and one per model for its factors."""
    from apps.orgs import rules as levels

    from .models import RiskModel

    ids = list(institution_ids)
    models = list(RiskModel.objects.filter(is_active=True).select_related("administration"))
    defined = {m.administration.path for m in models if m.administration_id}
    if not defined:
        default = next((m for m in models if not m.administration_id), None)
        if default is None:
            return []
        default.active_factors = list(default.factors.filter(is_active=True).order_by("order", "id"))
        return [(default, ids)]
    from apps.ledger.models import Institution

    paths = dict(Institution.objects.filter(pk__in=ids).values_list("pk", "township__path"))
    groups, by_level = {}, {}
    for iid in ids:
        path = paths.get(iid) or ""
        level = next((p for p in reversed(levels.ancestor_paths(path)) if p in defined), "")
        if level not in by_level:
            by_level[level] = levels.effective(models, level, looser=RiskModel.looser)
        model = by_level[level]
        if model is not None:
            groups.setdefault(model.pk, (model, []))[1].append(iid)
    for model, _ids in groups.values():
        model.active_factors = list(model.factors.filter(is_active=True).order_by("order", "id"))
    return list(groups.values())


def load_provider(path):
    """The provider function at ``path`` or None when its app or function does not exist (yet)."""
    module_path, _, name = path.rpartition(".")
    try:
        module = import_module(module_path)
    except ImportError:
        return None
    return getattr(module, name, None)


def _call(provider, ids, today, now):
    params = list(inspect.signature(provider).parameters)
    second = now if len(params) > 1 and params[1] == "now" else today
    return provider(ids, second)


def _numeric(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, datetime.date):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def severity_of(factor, value):
    """0–1: how much of the factor's weight applies for ``value`` (None: unknown → 0)."""
    number = _numeric(value)
    if number is None:
        return 0.0
    if factor.invert:
        number = 1.0 - number
    span = factor.full_at - factor.start_at
    if span == 0:
        return 0.0
    return max(0.0, min(1.0, (number - factor.start_at) / span))


def score_institutions(institution_ids, *, today=None, now=None, model=None):
    """``{id: RiskResult}`` for every id, one provider call per provider; each institution scored by
    the model in force for it (``models_for``) unless ``model`` is given."""
    ids = list(dict.fromkeys(institution_ids))
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    if model is None and ids:
        results = {}
        for in_force, group in models_for(ids):
            results.update(score_institutions(group, today=today, now=now, model=in_force))
        return results
    if model is None or not ids:
        return {}
    factors = getattr(model, "active_factors", None)
    if factors is None:
        factors = list(model.factors.filter(is_active=True).order_by("order", "id"))
    kinds = {}
    if any(f.institution_kinds for f in factors):
        from apps.ledger.models import Institution

        kinds = dict(Institution.objects.filter(pk__in=ids).values_list("pk", "kind"))
    data = {}
    for path in dict.fromkeys(f.provider for f in factors):
        provider = load_provider(path)
        data[path] = _call(provider, ids, today, now) if provider is not None else None
    results = {}
    for iid in ids:
        rows, score, floor, lifters = [], 0.0, RiskLevel.BLUE, []
        for f in factors:
            provided = data[f.provider]
            entry = (provided.get(iid) or {}) if provided is not None else {}
            available = provided is not None and f.metric in entry
            applicable = not f.institution_kinds or kinds.get(iid) in f.institution_kinds
            value = entry[f.metric] if available else None
            sev = severity_of(f, value) if available and applicable else 0.0
            weight = float(f.weight)
            contribution = round(weight * sev, 2)
            score += contribution
            row = FactorResult(
                key=f.key, label=f.label, group=f.group,
                value=value.isoformat() if isinstance(value, datetime.date) else value,
                severity=round(sev, 3), weight=weight, contribution=contribution, available=available,
                min_level=f.min_level, countermeasure=f.countermeasure, metric=f.metric, applicable=applicable,
                present=(sev > 0) if isinstance(value, bool) and applicable else None,
                note=str((entry.get("_notes") or {}).get(f.metric, "")), lift_rule=f.lift_rule)
            if f.min_level and sev > 0:
                lifters.append(row)
                if LEVEL_RANK[f.min_level] > LEVEL_RANK[floor]:
                    floor = f.min_level
            rows.append(row)
        score = round(score, 2)
        band = str(model.level_for(Decimal(str(score))))
        level = band
        if LEVEL_RANK[floor] > LEVEL_RANK[band]:
            level = str(floor)
            for row in lifters:
                row.lifted = row.min_level == level
        results[iid] = RiskResult(iid, score, level, model.version, rows, band=band)
    return results


def refresh_risk(institution_ids, *, today=None, now=None, batch_size=2000):
    """Compute and store the current risk and today's snapshot of the institutions (bulk upserts).

    Idempotent per day: the snapshot of a day is overwritten, never duplicated.
    """
    from .models import InstitutionRisk, RiskSnapshot

    now = now or timezone.now()
    today = today or timezone.localdate(now)
    ids = list(institution_ids)
    model = None  # per institution: the model in force for it (rules by level)
    all_results = {}
    for start in range(0, len(ids), batch_size):
        chunk = ids[start:start + batch_size]
        results = score_institutions(chunk, today=today, now=now, model=model)
        current = [InstitutionRisk(institution_id=r.institution_id, model_version=r.model_version,
                                   score=Decimal(str(r.score)), level=r.level, factors=r.factors_json(),
                                   computed_at=now, **{m: r.metric(m) for m in STORED_METRICS})
                   for r in results.values()]
        snaps = [RiskSnapshot(institution_id=r.institution_id, day=today, score=Decimal(str(r.score)),
                              level=r.level, model_version=r.model_version) for r in results.values()]
        with transaction.atomic():
            InstitutionRisk.objects.bulk_create(
                current, update_conflicts=True, unique_fields=["institution"],
                update_fields=["model_version", "score", "level", "factors", "computed_at", *STORED_METRICS])
            RiskSnapshot.objects.bulk_create(
                snaps, update_conflicts=True, unique_fields=["institution", "day"],
                update_fields=["score", "level", "model_version"])
        all_results.update(results)
    return all_results


def risk_of(institution):
    """The fresh risk of one institution (computed on read and stored), cached on the object."""
    cached = getattr(institution, "_risk_result", None)
    if cached is None:
        cached = refresh_risk([institution.pk]).get(institution.pk)
        institution._risk_result = cached
    return cached
