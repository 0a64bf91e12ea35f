"""Write the handover package: ``manage.py export_handover -o x.zip [--since D --until D] [--user NAME]``."""
import datetime

from django.core.management.base import BaseCommand, CommandError

from apps.dashboard.handover import HandoverError, export_package


def _date(value):
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = ("Export the handover package (JSON Schema, JSON Lines and CSV per entity, documents and photos, "
            "rule sets and settings, manifest with sha256). Without --user: the whole installation.")

    def add_arguments(self, parser):
        parser.add_argument("--since", help="first day of the period (YYYY-MM-DD); default: from the start")
        parser.add_argument("--until", help="last day of the period (YYYY-MM-DD); default: until today")
        parser.add_argument("--user", help="export only what this user may see (and check they may export)")
        parser.add_argument("-o", "--output", required=True)

    def handle(self, *args, **opts):
        user = None
        if opts["user"]:
            from apps.core.policy import can
            from apps.orgs.models import User

            user = User.objects.filter(username=opts["user"]).first()
            if user is None or not can(user, "handover.export"):
                raise CommandError(f"{opts['user']} may not export the handover package")
        since, until = _date(opts["since"]), _date(opts["until"])
        try:
            with open(opts["output"], "wb") as fh:
                manifest = export_package(fh, user, since, until, created_by=opts["user"] or "manage.py export_handover")
        except HandoverError as exc:
            raise CommandError(str(exc)) from exc
        from apps.core.audit import record

        record("handover.export", actor=user, object_repr=opts["output"][-300:], username="export_handover",
               after={"scope": manifest["scope"], "counts": {e["name"]: e["count"] for e in manifest["entities"]}})
        for e in manifest["entities"]:
            if e["count"]:
                self.stdout.write(f"  {e['name']}: {e['count']}")
        self.stdout.write(self.style.SUCCESS(f"wrote {opts['output']} ({len(manifest['files'])} files)"))
