"""Translation helpers for one app, so apps can be worked on side by side.

    python scripts/i18n.py extract hazards   # update apps/hazards/locale/zh_Hans/.../django.po only
    python scripts/i18n.py todo hazards      # list msgids still without a zh-Hans translation
    python scripts/i18n.py compile           # compile every catalogue (same as scripts/compile_translations.py)
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _po(app):
    return ROOT / "apps" / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def extract(app):
    app_dir = ROOT / "apps" / app
    (app_dir / "locale").mkdir(exist_ok=True)
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")
    os.environ.setdefault("DEBUG", "1")
    import django
    from django.core.management import call_command

    django.setup()
    os.chdir(app_dir)  # makemessages then only reads this app's files and writes its own catalogue
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, no_location=True, verbosity=0)
    todo(app)


def todo(app):
    import polib

    po = polib.pofile(str(_po(app)))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    print(f"{len(missing)} untranslated in {app}")
    for msgid in missing:
        print(repr(msgid))


def compile_all():
    sys.path.insert(0, str(ROOT / "scripts"))
    import compile_translations

    compile_translations.main()


if __name__ == "__main__":
    cmd, *args = sys.argv[1:] or ["help"]
    if cmd == "extract":
        extract(args[0])
    elif cmd == "todo":
        todo(args[0])
    elif cmd == "compile":
        compile_all()
    else:
        print(__doc__)
