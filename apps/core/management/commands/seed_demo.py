"""Create the demo district and accounts (idempotent): ``python manage.py seed_demo``.

The foundation seeds the tree, the ledger and the accounts; then every app that has a
``demo.py`` with ``seed(ctx)`` adds its own records, in the order of INSTALLED_APPS.
"""
import importlib
import random

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

DEMO_PASSWORD = "demo-pass-2026"


class DemoContext(dict):
    """What app seeders share: rng, today, the tree, the institutions and the users."""

    __getattr__ = dict.get


class Command(BaseCommand):
    help = "Create the demo district, its institutions and the demo accounts (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, **options):
        from apps.core.audit import audit_context
        from apps.orgs.demo import seed_tree_and_users

        ctx = DemoContext(rng=random.Random(2026), today=timezone.localdate(), now=timezone.now())
        with audit_context(remote_addr="seed_demo"), transaction.atomic():
            seed_tree_and_users(ctx)
            for config in apps.get_app_configs():
                if not config.name.startswith("apps.") or config.label == "orgs":
                    continue
                try:
                    module = importlib.import_module(f"{config.name}.demo")
                except ModuleNotFoundError as exc:
                    if exc.name == f"{config.name}.demo":
                        continue
                    raise
                if hasattr(module, "seed"):
                    module.seed(ctx)
                    if not options["quiet"]:
                        self.stdout.write(f"  seeded {config.label}")
        if not options["quiet"]:
            self.stdout.write(self.style.SUCCESS("Demo data ready. Accounts (password %s):" % DEMO_PASSWORD))
            for username, label in ctx["account_labels"]:
                self.stdout.write(f"  {username:8s} {label}")
