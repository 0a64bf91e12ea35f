"""The cockpit's figures for one user's scope, with the list URL behind every number.

A constant number of grouped queries whatever the number of institutions or hazards. Figures
of apps that are not installed yet (supervision, monitoring, inspections, training) are left
out rather than shown as zeros.
"""
import datetime
from dataclasses import dataclass
from urllib.parse import urlencode

from django.apps import apps
from django.db.models import Avg, Count, F, Max, Min, Q, Sum
from django.urls import reverse
from django.utils import timezone

from apps.assessment.choices import LEVEL_HEX, RiskLevel
from apps.assessment.models import InstitutionRisk
from apps.assessment.outcomes import month_starts
from apps.assessment.risk import load_provider, refresh_risk
from apps.core import scope
from apps.core.scope import org_under_q, sees_whole_platform
from apps.hazards.choices import OPEN_STATES, HazardCategory, HazardLevel, HazardState
from apps.hazards.metrics import rectification_rate
from apps.hazards.models import Hazard
from apps.ledger.models import Institution
from apps.orgs.models import Organization

LEVELS = [RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE]

# The lists behind the numbers (their filters accept ?township= and ?institution=).
HAZARD_LIST = "/hazards/"
SUPERVISION_LIST = "/hazards/supervisions/"
LEDGER_LIST = "/ledger/"
RISK_LIST = "/assessment/risk/"
INCIDENT_LIST = "/assessment/incidents/"
ALARM_LIST = "/monitoring/alarms/"
DEVICE_LIST = "/monitoring/devices/"
PATROL_COMPLIANCE = "/inspections/compliance/"
MISSED_PATROLS = "/inspections/patrols/missed/"
TRAINING_COMPLIANCE = "/training/compliance/"


def link(path, **params):
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return path + ("?" + urlencode(params, doseq=True) if params else "")


@dataclass
class Tile:
    key: str
    label: str
    value: object
    url: str
    css: str = ""


def _model(label):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _seconds(duration):
    """Seconds of a duration aggregate: a timedelta on PostgreSQL, microseconds on SQLite."""
    if duration is None:
        return None
    if isinstance(duration, datetime.timedelta):
        return duration.total_seconds()
    return float(duration) / 1e6


class Cockpit:
    """Every figure of the cockpit for ``user``, optionally narrowed to one ``township`` or to one
    ``area`` of the tree (a city or district under the user's administration: the drill-down)."""

    # Set on an entry served after the day changed, until its rebuild is stored (see ``cached``).
    as_of = None

    def __init__(self, user, *, township=None, area=None, today=None, now=None):
        self.user = user
        self.now = now or timezone.now()
        self.today = today or timezone.localdate(self.now)
        self.township = township
        self.tid = township.pk if township else None
        self.area = area if township is None else None
        self.aid = self.area.pk if self.area else None
        self.area_path = self.area.path if self.area else None
        self.institutions = self.narrow(Institution.objects.visible_to(user), "")
        self.hazards = self.narrow(Hazard.objects.visible_to(user))
        self.risks = self.narrow(InstitutionRisk.objects.visible_to(user))
        self.build()

    def narrow(self, qs, institution_path="institution"):
        """``qs`` limited to the township or area this cockpit is narrowed to (if any)."""
        prefix = f"{institution_path}__" if institution_path else ""
        if self.tid:
            return qs.filter(**{f"{prefix}township_id": self.tid})
        if self.area_path:
            return qs.filter(**{f"{prefix}township__path__startswith": self.area_path})
        return qs

    def url(self, path, **params):
        return link(path, township=self.tid, area=self.aid, **params)

    # ------------------------------------------------------------------ build
    def build(self):
        self._ensure_risk()
        self.township_paths = {}
        self.township_names = {}
        for pk, name, path in Organization.objects.filter(kind="township").values_list("pk", "name", "path"):
            self.township_names[pk] = name
            self.township_paths[pk] = path
        self._institutions_and_risk()
        self._open_hazards()
        self._closure()
        self._supervision()
        self._devices()
        self._units()
        self._electrical()
        self._compliance()
        self._campaigns()
        self._trends()

    # Institutions never scored are scored in the request only up to this many (a new institution
    # shows at once); everything else that is stale is refreshed in the background.
    INLINE_RISK_LIMIT = 50

    def _ensure_risk(self):
        """Never recompute stale risk here: show the last figures with their time (``risk_as_of``)
        and queue a refresh. Only a handful of institutions never scored are scored inline."""
        from apps.assessment.tasks import queue_risk_refresh

        start = timezone.make_aware(datetime.datetime.combine(self.today, datetime.time.min))
        unscored = list(self.institutions.filter(risk__isnull=True).values_list("pk", flat=True)
                        [: self.INLINE_RISK_LIMIT + 1])
        if unscored and len(unscored) <= self.INLINE_RISK_LIMIT:
            refresh_risk(unscored, today=self.today, now=self.now)
            unscored = []
        oldest = self.risks.aggregate(oldest=Min("computed_at"))["oldest"]
        self.risk_as_of = oldest
        self.risk_stale = bool(unscored) or (oldest is not None and oldest < start)
        if self.risk_stale:
            queue_risk_refresh()

    def _institutions_and_risk(self):
        by_town = {r["township"]: r["n"] for r in self.institutions.values("township").annotate(n=Count("pk"))
                   .order_by()}
        self.institution_count = sum(by_town.values())
        risk_rows = (self.risks.values("institution__township", "level").annotate(n=Count("pk")).order_by())
        self.risk_by_town = {}
        level_totals = {lv.value: 0 for lv in LEVELS}
        for r in risk_rows:
            self.risk_by_town.setdefault(r["institution__township"], {})[r["level"]] = r["n"]
            level_totals[r["level"]] += r["n"]
        self.towns = sorted(by_town, key=lambda t: self.township_names.get(t, ""))
        self.by_town_institutions = by_town
        self.tiles = [Tile("institutions", "institutions", self.institution_count, self.url(LEDGER_LIST))]
        self.risk_tiles = [Tile(f"risk_{lv.value}", str(lv.label), level_totals[lv.value],
                                self.url(RISK_LIST, level=lv.value), LEVEL_HEX[lv]) for lv in LEVELS]

    def _open_hazards(self):
        rows = (self.hazards.filter(state__in=OPEN_STATES)
                .values("institution__township", "level", "category")
                .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=self.today))).order_by())
        total = major = overdue = 0
        by_cat, by_town = {}, {}
        self.hazards_by_town = by_town
        for r in rows:
            total += r["n"]
            overdue += r["overdue"]
            if r["level"] == HazardLevel.MAJOR:
                major += r["n"]
            by_cat[r["category"]] = by_cat.get(r["category"], 0) + r["n"]
            t = by_town.setdefault(r["institution__township"], {"open": 0, "major": 0, "overdue": 0})
            t["open"] += r["n"]
            t["overdue"] += r["overdue"]
            if r["level"] == HazardLevel.MAJOR:
                t["major"] += r["n"]
        self.hazard_tiles = [
            Tile("open", "open", total, self.url(HAZARD_LIST, open=1)),
            Tile("open_major", "open_major", major, self.url(HAZARD_LIST, open=1, level="major"), "#dc3545"),
            Tile("open_general", "open_general", total - major, self.url(HAZARD_LIST, open=1, level="general")),
            Tile("overdue", "overdue", overdue, self.url(HAZARD_LIST, overdue=1), "#fd7e14"),
        ]
        self.by_category = [Tile(c.value, str(c.label), by_cat.get(c.value, 0),
                                 self.url(HAZARD_LIST, open=1, category=c.value)) for c in HazardCategory]
        self.township_rows = []
        # A directly-run unit's institutions span townships it cannot filter lists by: no township table.
        towns = [] if scope.reaches_through(self.user, "operator_unit_id") else self.towns
        for t in towns:
            h = by_town.get(t, {"open": 0, "major": 0, "overdue": 0})
            risk = self.risk_by_town.get(t, {})
            self.township_rows.append({
                "id": t, "name": self.township_names.get(t, t),
                "institutions": Tile("inst", "", self.by_town_institutions.get(t, 0), link(LEDGER_LIST, township=t)),
                "levels": [Tile(lv.value, str(lv.label), risk.get(lv.value, 0),
                                link(RISK_LIST, township=t, level=lv.value), LEVEL_HEX[lv]) for lv in LEVELS],
                "open": Tile("open", "", h["open"], link(HAZARD_LIST, township=t, open=1)),
                "major": Tile("major", "", h["major"], link(HAZARD_LIST, township=t, open=1, level="major")),
                "overdue": Tile("overdue", "", h["overdue"], link(HAZARD_LIST, township=t, overdue=1)),
            })

    def _closure(self):
        """Rectification rate and average days to close over hazards found in the last 12 months.

        The monthly trend of found and closed hazards comes with it: counts of month ranges (never
        a per-row month truncation, several times slower on PostgreSQL).
        """
        starts = month_starts(self.today, 12)
        bounds = [timezone.make_aware(datetime.datetime.combine(s, datetime.time.min)) for s in starts]
        nxt = starts[-1].replace(day=28) + datetime.timedelta(days=4)
        bounds.append(timezone.make_aware(datetime.datetime.combine(nxt.replace(day=1), datetime.time.min)))
        since = starts[0]
        closed = Q(state=HazardState.CLOSED)
        spec = {"found": Count("pk"), "closed": Count("pk", filter=closed),
                "avg": Avg(F("closed_at") - F("found_at"), filter=closed)}
        found_in = [Q(found_at__gte=bounds[i], found_at__lt=bounds[i + 1]) for i in range(12)]
        closed_in = [Q(closed_at__gte=bounds[i], closed_at__lt=bounds[i + 1]) for i in range(12)]
        if not self.tid and not self.area_path and sees_whole_platform(self.user):
            agg, found, closed_n = self._province_months(starts, found_in, closed_in)
        else:
            # A scope reached through its institutions: one pass over its own hazards for each.
            agg = self.hazards.filter(found_at__gte=bounds[0]).aggregate(
                **spec, **{f"f{i}": Count("pk", filter=q) for i, q in enumerate(found_in)})
            agg.update(self.hazards.filter(closed, closed_at__gte=bounds[0]).aggregate(
                **{f"c{i}": Count("pk", filter=q) for i, q in enumerate(closed_in)}))
            found, closed_n = [agg[f"f{i}"] for i in range(12)], [agg[f"c{i}"] for i in range(12)]
        self.trend_found, self.trend_closed = found, closed_n
        self.closure_since = since
        self.closure_found = Tile("found_12m", "", agg["found"], self.url(HAZARD_LIST, found_after=since.isoformat()))
        self.closure_closed = Tile("closed_12m", "", agg["closed"],
                                   self.url(HAZARD_LIST, open=0, found_after=since.isoformat()))
        self.rectification_rate = rectification_rate(agg["found"], agg["closed"])
        avg = agg["avg"]
        if isinstance(avg, tuple):  # (seconds, closed) summed over the province's months
            avg = avg[0] / avg[1] if avg[1] else None
        else:
            avg = _seconds(avg)
        self.avg_days_to_close = round(avg / 86400, 1) if avg is not None else None

    def _province_months(self, starts, found_in, closed_in):
        """The province's figures month by month, each month from the cache unless a hazard of it
        changed (see ``cache.month_keys``): a change costs one or two months' queries, not twelve."""
        from django.core.cache import cache

        from .cache import MONTH_TTL, month_keys

        keys = month_keys([s.strftime("%Y-%m") for s in starts])
        got = cache.get_many(keys)
        closed = Q(state=HazardState.CLOSED)
        fresh = {}
        for i, key in enumerate(keys):
            if key in got:
                continue
            row = self.hazards.filter(found_in[i]).aggregate(
                found=Count("pk"), closed=Count("pk", filter=closed),
                spent=Sum(F("closed_at") - F("found_at"), filter=closed))
            fresh[key] = (row["found"], row["closed"], _seconds(row["spent"]) or 0.0,
                          self.hazards.filter(closed, closed_in[i]).count())
        if fresh:
            cache.set_many(fresh, MONTH_TTL)
            got.update(fresh)
        months = [got[k] for k in keys]
        closed_total = sum(m[1] for m in months)
        agg = {"found": sum(m[0] for m in months), "closed": closed_total,
               "avg": (sum(m[2] for m in months), closed_total)}
        return agg, [m[0] for m in months], [m[3] for m in months]

    def _supervision(self):
        Supervision = _model("hazards.Supervision")
        self.supervision = None
        if Supervision is None:
            return
        qs = self.narrow(Supervision.objects.visible_to(self.user).filter(state="listed"), "hazard__institution")
        agg = qs.aggregate(listed=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=self.today)))
        upcoming = list(qs.select_related("hazard__institution").order_by("deadline", "pk")[:8])
        self.supervision = {
            "listed": Tile("supervised", "", agg["listed"], self.url(SUPERVISION_LIST, state="listed")),
            "overdue": Tile("supervised_overdue", "", agg["overdue"],
                            self.url(SUPERVISION_LIST, state="listed", overdue=1), "#dc3545"),
            "upcoming": upcoming,
        }

    def _devices(self):
        """Devices, offline devices and active alarms of the scope: three counts over the same
        scoped querysets the linked lists show (no per-institution figures are needed here)."""
        Device, Alarm = _model("monitoring.Device"), _model("monitoring.Alarm")
        self.devices = None
        if Device is None or Alarm is None:
            return
        from apps.monitoring.choices import OPEN_ALARM_STATES

        devices = self.narrow(Device.objects.visible_to(self.user).filter(is_active=True))
        alarms = self.narrow(Alarm.objects.visible_to(self.user).filter(state__in=OPEN_ALARM_STATES))
        self._device_scope = devices
        self.devices = {
            "devices": Tile("devices", "", devices.count(), self.url(DEVICE_LIST)),
            "offline": Tile("offline", "", devices.offline(self.now).count(),
                            self.url(DEVICE_LIST, offline="true"), "#6c757d"),
            "active_alarms": Tile("active_alarms", "", alarms.count(),
                                  self.url(ALARM_LIST, state=["active", "acknowledged"]), "#dc3545"),
        }

    # ------------------------------------------------------------------ comparison by level
    def unit_level(self):
        """What the comparison table compares: ("area", root path) — the units one level below the
        root (a province's cities, a city's districts, a district's townships); ("institution", None)
        — the institutions of one township; (None, None) — no table (a unit, an institution)."""
        user = self.user
        if self.tid:
            return "institution", None
        if self.area_path:
            return "area", self.area_path
        if scope.reaches_through(user, "operator_unit_id") or scope.reaches_through(user, "id"):
            return None, None
        if scope.home_township_id(user):
            return "institution", None
        if scope.filters_by_township(user):
            return "area", "" if user.is_superuser else user.administration_path
        return None, None

    def _units(self):
        """The comparison table: one row per unit one level below this cockpit's root, each figure
        linked to the list filtered to exactly its rows (``?area=`` or ``?institution=``).

        Grouped queries only, whatever the depth or the number of units: at the area level the
        figures grouped by township (already computed above, plus one for the devices) are summed up
        to the unit each township's path runs through; at the institution level four queries
        grouped by institution. Never a query per unit."""
        self.unit_rows = []
        self.unit_kind, root = self.unit_level()
        if self.unit_kind is None:
            return
        devices = getattr(self, "_device_scope", None)
        blank = {"institutions": 0, "open": 0, "major": 0, "overdue": 0, "online": 0, "devices": 0,
                 "monitored": 0, "levels": {}}
        figures = {}
        if self.unit_kind == "area":
            unit_of = {}
            for t, path in self.township_paths.items():
                if path.startswith(root) and len(path) > len(root):
                    unit_of[t] = int(path[len(root):].split(".", 1)[0])
            def add(t, key, n):
                u = unit_of.get(t)
                if u is not None:
                    row = figures.setdefault(u, {**blank, "levels": {}})
                    row[key] += n
            for t, n in self.by_town_institutions.items():
                add(t, "institutions", n)
            for t, h in self.hazards_by_town.items():
                for key in ("open", "major", "overdue"):
                    add(t, key, h[key])
            for t, levels in self.risk_by_town.items():
                u = unit_of.get(t)
                if u is not None:
                    lv = figures.setdefault(u, {**blank, "levels": {}})["levels"]
                    for level, n in levels.items():
                        lv[level] = lv.get(level, 0) + n
            group = "institution__township"
        else:
            for pk in self.institutions.values_list("pk", flat=True):
                figures[pk] = {**blank, "levels": {}, "institutions": 1}
            for pk, level in self.risks.values_list("institution", "level"):
                if pk in figures:
                    figures[pk]["levels"][level] = figures[pk]["levels"].get(level, 0) + 1
            for r in (self.hazards.filter(state__in=OPEN_STATES).values("institution")
                      .annotate(n=Count("pk"), overdue=Count("pk", filter=Q(deadline__lt=self.today)),
                                major=Count("pk", filter=Q(level=HazardLevel.MAJOR))).order_by()):
                if r["institution"] in figures:
                    figures[r["institution"]].update(open=r["n"], overdue=r["overdue"], major=r["major"])
            unit_of = None
            group = "institution"
        if devices is not None:
            offline = devices._silence_q(self.now)
            for r in (devices.values(group).annotate(n=Count("pk"), online=Count("pk", filter=~offline),
                                                     insts=Count("institution", distinct=True)).order_by()):
                key = r[group] if unit_of is None else unit_of.get(r[group])
                if key in figures:
                    row = figures[key]
                    row["devices"] += r["n"]
                    row["online"] += r["online"]
                    row["monitored"] += r["insts"]
        if self.unit_kind == "area":
            names = (Organization.objects.filter(pk__in=list(figures)).order_by("order", "sort_name", "pk")
                     .values_list("pk", "name", "kind"))
            param = "area"
        else:
            names = (Institution.objects.filter(pk__in=list(figures)).order_by("order", "sort_name", "pk")
                     .values_list("pk", "name", "kind"))
            param = "institution"
        self.has_devices = devices is not None
        for pk, name, kind in names:
            f = figures[pk]
            p = {param: pk}
            row = {"id": pk, "name": name, "kind": kind,
                   "drill": f"?area={pk}" if param == "area" else reverse("ledger:institution_detail", args=[pk]),
                   "levels": [Tile(lv.value, str(lv.label), f["levels"].get(lv.value, 0),
                                   link(RISK_LIST, **p, level=lv.value), LEVEL_HEX[lv]) for lv in LEVELS],
                   "open": Tile("open", "", f["open"], link(HAZARD_LIST, **p, open=1)),
                   "major": Tile("major", "", f["major"], link(HAZARD_LIST, **p, open=1, level="major")),
                   "overdue": Tile("overdue", "", f["overdue"], link(HAZARD_LIST, **p, overdue=1)),
                   # The ledger filters by area, not by one institution: an institution is its own row.
                   "institutions": Tile("inst", "", f["institutions"], link(LEDGER_LIST, **p))
                   if param == "area" else None,
                   "online": Tile("online", "", f["online"], link(DEVICE_LIST, **p, offline="false"))
                   if self.has_devices else None,
                   "devices": f["devices"],
                   "monitored": Tile("monitored", "", f["monitored"], link(LEDGER_LIST, **p, monitored="true"))
                   if self.has_devices and param == "area" else None}
            total = f["institutions"]
            row["coverage"] = round(100 * f["monitored"] / total) if total and self.has_devices else None
            self.unit_rows.append(row)

    def unit_tiles(self):
        tiles = []
        for row in self.unit_rows:
            tiles += [*row["levels"], row["open"], row["major"], row["overdue"]]
            tiles += [t for t in (row["institutions"], row["online"], row["monitored"]) if t is not None]
        return tiles

    def _electrical(self):
        """Hourly max and mean residual current of the scope's devices over the last 24 hours.

        From the township rollups when the user's scope is whole townships (the bureau, a township
        officer): a few rows per hour whatever the number of devices. A scope that cuts across
        townships (a section's institution kinds, a unit, one institution) reads its devices' rollups.
        """
        self.electrical = None
        Device, Rollup, AreaRollup = (_model("monitoring.Device"), _model("monitoring.HourlyRollup"),
                                      _model("monitoring.AreaHourlyRollup"))
        if Device is None or Rollup is None or AreaRollup is None:
            return
        start = (self.now - datetime.timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
        user = self.user
        towns = scope.reach_limit(user, "township_id")  # None: the whole district
        if scope.sees_all(user) or (towns and scope.reaches_through(user, "township_id")):
            qs = AreaRollup.objects.filter(channel="residual_ma", hour__gte=start)
            if not scope.sees_all(user):
                qs = qs.filter(township_id__in=towns)
            else:
                qs = qs.filter(org_under_q(user, "township"))
            if self.tid:
                qs = qs.filter(township_id=self.tid)
            elif self.area_path:
                qs = qs.filter(township__path__startswith=self.area_path)
        else:
            devices = self.narrow(Device.objects.visible_to(user))
            qs = Rollup.objects.filter(channel="residual_ma", hour__gte=start, device__in=devices.values("pk"))
        rows = list(qs.values("hour").annotate(hi=Max("max"), total=Sum("sum"), n=Sum("count")).order_by("hour"))
        self.electrical = {
            "hours": [timezone.localtime(r["hour"]).strftime("%m-%d %H:00") for r in rows],
            "max": [round(r["hi"], 1) for r in rows],
            "mean": [round(r["total"] / r["n"], 1) if r["n"] else None for r in rows],
            "url": self.url(DEVICE_LIST),
        }

    def _compliance(self):
        """Patrol, inspection, training and drill compliance of the institutions in operation.

        Counted in SQL over the stored risk rows, which carry these facts as the risk model read
        them (recomputed when a patrol, inspection, drill or staff record changes, and daily).
        """
        self.compliance = []
        self.missed_patrols = None
        agg = self.risks.filter(institution__is_active=True).aggregate(
            n=Count("pk"), patrol_known=Count("pk", filter=Q(patrol_ok__isnull=False)),
            patrol=Count("pk", filter=Q(patrol_ok=True)), inspection=Count("pk", filter=Q(inspection_ok=True)),
            missed=Sum("missed_patrols_30d"), drill_known=Count("pk", filter=Q(drill_ok__isnull=False)),
            drill=Count("pk", filter=Q(drill_ok=True)), training=Count("pk", filter=Q(people_overdue=0)))
        n = agg["n"]
        if agg["patrol_known"]:
            self.compliance.append(("patrol", agg["patrol"], n, self.url(PATROL_COMPLIANCE)))
            self.compliance.append(("inspection", agg["inspection"], n, self.url(PATROL_COMPLIANCE)))
            if not self.area_path:  # the missed-patrol list filters by township, not by area
                self.missed_patrols = Tile("missed_patrols", "", agg["missed"] or 0, self.url(MISSED_PATROLS))
        if agg["drill_known"]:
            url = f"{TRAINING_COMPLIANCE}township/{self.tid}/" if self.tid else TRAINING_COMPLIANCE
            self.compliance.append(("training", agg["training"], n, url))
            self.compliance.append(("drill", agg["drill"], n, url))

    def _campaigns(self):
        """Progress of the campaigns running today (at most five, nearest end first)."""
        Campaign = _model("inspections.Campaign")
        progress = load_provider("apps.inspections.progress.campaign_progress")
        self.campaigns = None
        if Campaign is None or progress is None:
            return
        running = (Campaign.objects.visible_to(self.user).filter(starts_on__lte=self.today, ends_on__gte=self.today)
                   .order_by("ends_on", "pk")[:5])
        self.campaigns = []
        for campaign in running:
            totals = progress(campaign, self.user, self.today)["totals"]
            self.campaigns.append({"campaign": campaign, "url": campaign.get_absolute_url(), **totals})

    def _trends(self):
        from apps.assessment.models import FireIncident

        starts = month_starts(self.today, 12)
        bounds = [timezone.make_aware(datetime.datetime.combine(s, datetime.time.min)) for s in starts]
        bounds.append(self.now + datetime.timedelta(days=1))
        incidents = self.narrow(FireIncident.objects.visible_to(self.user))
        agg = incidents.filter(occurred_at__gte=bounds[0]).aggregate(**{
            f"m{i}": Count("pk", filter=Q(occurred_at__gte=bounds[i], occurred_at__lt=bounds[i + 1]))
            for i in range(12)})
        self.trend = {"months": [f"{s:%Y-%m}" for s in starts], "found": self.trend_found,
                      "closed": self.trend_closed, "fires": [agg[f"m{i}"] for i in range(12)]}
        self.fires_12m = Tile("fires_12m", "", sum(self.trend["fires"]),
                              self.url(INCIDENT_LIST, since=starts[0].isoformat()))

    @classmethod
    def cached(cls, user, *, township=None, area=None):
        """The cockpit from the cache when no input changed since it was built (see cache.py).

        At the day change (the first request of a new local day finds no entry of today), the last
        entry of this scope is served when no input changed since it was built (same version): its
        figures carry their time (``as_of``) and a rebuild is queued, so the first request after
        midnight costs a cache read, not a build. Any change since (a new version) is built inline."""
        from django.core.cache import cache

        from .cache import last_key, queue_rebuild, scope_key

        today = timezone.localdate()
        key = scope_key(user, township, today, area)
        found = cache.get(key)
        if found is not None:
            found.user = user
            return found
        last = cache.get(last_key(user, township, area))
        if last is not None and last.today < today:
            last.user = user
            last.as_of = last.now
            queue_rebuild(user, township, area)
            return last
        return cls.build_and_store(user, township=township, area=area)

    @classmethod
    def build_and_store(cls, user, *, township=None, area=None):
        """Build the cockpit now and keep it as today's entry and as the scope's last one."""
        from django.core.cache import cache

        from .cache import LAST_TTL, TTL, last_key, scope_key

        built = cls(user, township=township, area=area)
        state = {k: v for k, v in built.__dict__.items()
                 if k not in ("user", "institutions", "hazards", "risks") and not k.startswith("_")}
        if built.supervision:
            state["supervision"] = dict(built.supervision, upcoming=list(built.supervision["upcoming"]))
        clone = cls.__new__(cls)
        clone.__dict__.update(state)
        cache.set(scope_key(user, township, built.today, area), clone, TTL)
        cache.set(last_key(user, township, area), clone, LAST_TTL)
        return built

    # ------------------------------------------------------------------ for templates and tests
    def all_tiles(self):
        """Every (number, url) pair shown, for the template and for the tests."""
        tiles = [*self.tiles, *self.risk_tiles, *self.hazard_tiles, *self.by_category, self.closure_found,
                 self.closure_closed, self.fires_12m]
        for row in self.township_rows:
            tiles += [row["institutions"], *row["levels"], row["open"], row["major"], row["overdue"]]
        if self.supervision:
            tiles += [self.supervision["listed"], self.supervision["overdue"]]
        if self.devices:
            tiles += list(self.devices.values())
        if self.missed_patrols is not None:
            tiles.append(self.missed_patrols)
        return tiles + self.unit_tiles()

    def chart_data(self):
        return {
            "risk": [{"name": t.label, "value": t.value, "itemStyle": {"color": t.css}, "url": t.url}
                     for t in self.risk_tiles],
            "category": {"labels": [t.label for t in self.by_category], "values": [t.value for t in self.by_category],
                         "urls": [t.url for t in self.by_category]},
            "township": {"labels": [r["name"] for r in self.township_rows],
                         "open": [r["open"].value for r in self.township_rows],
                         "major": [r["major"].value for r in self.township_rows],
                         "urls": [r["open"].url for r in self.township_rows]},
            "trend": self.trend,
            "electrical": self.electrical,
        }
