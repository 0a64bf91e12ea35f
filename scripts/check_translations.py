"""Fail when a user-facing string has no zh-Hans translation.

Runs ``makemessages`` for zh_Hans (needs GNU gettext) and lists every msgid whose msgstr is
empty or fuzzy, per catalogue.
"""
import subprocess
import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main():
    py = sys.executable
    subprocess.run([py, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location",
                    "--ignore=node_modules/*", "--ignore=var/*", "--ignore=static/*", "--ignore=.venv/*"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    missing = []
    for po_path in sorted(list(ROOT.glob("apps/*/locale/zh_Hans/LC_MESSAGES/django.po"))
                          + list(ROOT.glob("locale/zh_Hans/LC_MESSAGES/django.po"))):
        po = polib.pofile(str(po_path))
        for entry in po:
            if entry.obsolete:
                continue
            if not entry.translated() or "fuzzy" in entry.flags:
                missing.append(f"{po_path.relative_to(ROOT)}: {entry.msgid!r}")
    if missing:
        print(f"{len(missing)} untranslated string(s):")
        print("\n".join(missing[:200]))
        sys.exit(1)
    print("all strings translated")


if __name__ == "__main__":
    main()
