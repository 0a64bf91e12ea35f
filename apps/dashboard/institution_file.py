"""一院一档: everything on record about one institution, on one printable page.

Every part is read through the user's scope (``visible_to``), a fixed number of queries whatever
the institution holds."""
import datetime

from django.utils import timezone

from apps.hazards.choices import OPEN_STATES
from apps.hazards.models import Hazard, Supervision
from apps.inspections.models import Inspection, PatrolRound
from apps.ledger.models import Institution
from apps.training.models import Drill, TrainingSession

RECENT_DAYS = 365
RECENT_ROWS = 20


def institution_file(user, pk):
    """The file of the institution ``pk`` as the user may see it (Institution.DoesNotExist outside scope)."""
    institution = (Institution.objects.visible_to(user).select_related("township", "operator_unit").get(pk=pk))
    since = timezone.localdate() - datetime.timedelta(days=RECENT_DAYS)
    return {
        "institution": institution,
        "since": since,
        "buildings": list(institution.buildings.all()),
        "person_changes": list(institution.person_changes.all()[:RECENT_ROWS]),
        "open_hazards": list(Hazard.objects.visible_to(user).filter(institution=institution, state__in=OPEN_STATES)
                             .order_by("deadline", "found_at")),
        "supervisions": list(Supervision.objects.visible_to(user).filter(hazard__institution=institution)
                             .select_related("hazard", "supervising_department").order_by("-listed_at")[:RECENT_ROWS]),
        "inspections": list(Inspection.objects.visible_to(user).filter(institution=institution, inspected_on__gte=since)
                            .select_related("office", "template").order_by("-inspected_on", "-id")[:RECENT_ROWS]),
        "patrols": list(PatrolRound.objects.visible_to(user).filter(institution=institution,
                                                                     started_at__date__gte=since)
                        .order_by("-started_at")[:RECENT_ROWS]),
        "training": list(TrainingSession.objects.visible_to(user).filter(institution=institution, date__gte=since)
                         .order_by("-date", "-id")[:RECENT_ROWS]),
        "drills": list(Drill.objects.visible_to(user).filter(institution=institution, date__gte=since)
                       .order_by("-date", "-id")[:RECENT_ROWS]),
    }
