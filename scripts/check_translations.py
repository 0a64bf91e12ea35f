"""The i18n check (``make i18n-check``): every string translated, one word per meaning.

Runs ``makemessages`` for zh_Hans (needs GNU gettext), compiles the catalogues, then fails when
1. a msgid has no zh-Hans translation (empty or fuzzy), per catalogue;
2. one msgid (same context) is translated differently in two of the project's catalogues;
3. the word Django shows for a msgid at run time differs from the project's own translation
   (Django merges the catalogues of every installed app, Django's and the libraries' too, and
   one of them wins: "Key" became 键 from the REST framework, "Sessions" 会话 from sessions);
4. a translation contains a term that ``docs/glossary.md`` marks wrong for that msgid.
A msgid with two meanings gets a context (``pgettext``, ``{% trans "…" context "…" %}``).
"""
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glossary.md"


def catalogues():
    return sorted(list(ROOT.glob("apps/*/locale/zh_Hans/LC_MESSAGES/django.po"))
                  + list(ROOT.glob("locale/zh_Hans/LC_MESSAGES/django.po")))


def glossary_rules(path=GLOSSARY):
    """[(context or None, msgid, [wrong terms], where)] from the glossary's table rows.

    A row reads ``| 中文 | English | `msgid` | context | where used | wrong terms |``; rows without a
    back-quoted msgid (terms no screen string carries) are skipped.
    """
    rules = []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 6 or not cells[2].startswith("`"):
            continue
        msgid = cells[2].strip("`")
        context = cells[3].strip("`") or None
        wrong = [w for w in re.split(r"[、,，]\s*", cells[5]) if w and w != "—"]
        rules.append((context, msgid, wrong, cells[4]))
    return rules


def project_translations():
    """{(context, msgid): {catalogue: msgstr}} over the project's catalogues."""
    found = defaultdict(dict)
    for po_path in catalogues():
        for entry in polib.pofile(str(po_path)):
            if entry.obsolete or not entry.msgstr or "fuzzy" in entry.flags:
                continue
            found[(entry.msgctxt, entry.msgid)][str(po_path.relative_to(ROOT))] = entry.msgstr
    return found


def untranslated():
    missing = []
    for po_path in catalogues():
        for entry in polib.pofile(str(po_path)):
            if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags):
                missing.append(f"{po_path.relative_to(ROOT)}: {entry.msgid!r}")
    return missing


def collisions(found):
    return [f"{key[1]!r}{f' (context {key[0]!r})' if key[0] else ''}: "
            + "; ".join(f"{cat} → {text}" for cat, text in sorted(by.items()))
            for key, by in sorted(found.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
            if len(set(by.values())) > 1]


def runtime_overrides(found):
    """Msgids whose run-time zh-Hans word (after Django merges every catalogue) is not the project's."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.utils import translation

    problems = []
    with translation.override("zh-hans"):
        for (context, msgid), by in sorted(found.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
            if "%" in msgid or len(set(by.values())) > 1:
                continue  # placeholders are checked by makemessages; collisions are reported above
            shown = translation.pgettext(context, msgid) if context else translation.gettext(msgid)
            ours = next(iter(by.values()))
            if shown != ours:
                problems.append(f"{msgid!r}{f' (context {context!r})' if context else ''}: shown as {shown!r}, "
                                f"the project says {ours!r} — give it a context or take the shown word")
    return problems


def wrong_terms(found, rules):
    problems = []
    for context, msgid, wrong, _where in rules:
        for cat, text in found.get((context, msgid), {}).items():
            for term in wrong:
                if term in text:
                    problems.append(f"{cat}: {msgid!r} is translated {text!r}, the glossary marks {term!r} wrong")
    return problems


def main():
    py = sys.executable
    subprocess.run([py, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location",
                    "--ignore=node_modules/*", "--ignore=var/*", "--ignore=static/*", "--ignore=.venv/*"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([py, "scripts/compile_translations.py"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    missing = untranslated()
    if missing:
        print(f"{len(missing)} untranslated string(s):")
        print("\n".join(missing[:200]))
        sys.exit(1)
    found = project_translations()
    failures = [("msgid(s) translated differently in two catalogues", collisions(found)),
                ("msgid(s) shown with another catalogue's word", runtime_overrides(found)),
                ("translation(s) with a term the glossary marks wrong", wrong_terms(found, glossary_rules()))]
    failed = False
    for title, problems in failures:
        if problems:
            failed = True
            print(f"{len(problems)} {title}:")
            print("\n".join(problems[:200]))
    if failed:
        sys.exit(1)
    print("all strings translated")


if __name__ == "__main__":
    main()
