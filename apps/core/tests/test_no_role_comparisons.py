"""No capability expression is written twice: roles are read only by the policy modules.

Code outside the allowed modules asks ``user.can(action, obj)`` (a capability), a registered field
rule, or a scope helper of :mod:`apps.core.scope` (``sees_all``, ``reach_limit``,
``own_institution_id``, ``township_choices`` …). This test reads the source tree and fails on a
role comparison anywhere else.
"""
import re
from pathlib import Path

APPS = Path(__file__).resolve().parents[2]

# Where roles may be read, and why.
ALLOWED = {
    "core/policy.py": "the registry: the role test of every action",
    "core/scope.py": "the scope: which attribute of an institution each role reaches (REACH) and the helpers",
    "orgs/models.py": "the User model: the role field and the three role-set predicates the two modules above use",
    "orgs/choices.py": "the roles and the role sets themselves",
    # Fixtures that create users with a role (assignments, not comparisons).
    "orgs/demo.py": "the demo accounts",
    "core/testing.py": "the test world's users",
    "dashboard/management/commands/generate_scale_data.py": "benchmark users",
    "dashboard/handover.py": "restores users (with their role) from a handover package",
}

PATTERNS = [
    (re.compile(r"\brole\s*(==|!=)"), "role compared"),
    (re.compile(r"\.role\s+(not\s+)?in\b"), "role tested for membership"),
    (re.compile(r"\.(sees_everything|is_office|is_institution_user)\b"), "role-set predicate"),
    (re.compile(r"\brole__in\s*="), "query by role"),
    (re.compile(r"\brole\s*=\s*(Role\.|\"|')"), "query or assignment by role"),
    (re.compile(r"(?<![A-Za-z_])Role\.[A-Z_]+"), "a role named"),
    (re.compile(r"\b(BUREAU|OFFICE|INSTITUTION)_ROLES\b"), "a role set named"),
]


def _is_allowed(rel: str) -> bool:
    return rel in ALLOWED or rel.endswith("/policy.py") or "/tests/" in f"/{rel}" or "/migrations/" in rel


def role_comparisons():
    found = []
    for path in sorted(APPS.rglob("*.py")):
        rel = path.relative_to(APPS).as_posix()
        if _is_allowed(rel):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for pattern, what in PATTERNS:
                if pattern.search(code):
                    found.append(f"apps/{rel}:{number}: {what}: {line.strip()}")
    return found


TEMPLATE_PATTERNS = [
    (re.compile(r"\buser\.(role|sees_everything|is_office|is_institution_user)\b"), "role read in a template"),
]


def role_readings_in_templates():
    """Templates ask ``user|can:"…"`` or the scope filters (``user|sees_all``, ``user|own_institution``,
    ``user|home_township``), never the role."""
    found = []
    root = APPS.parent
    for path in sorted([*root.joinpath("templates").rglob("*.html"), *APPS.rglob("templates/**/*.html")]):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pattern, what in TEMPLATE_PATTERNS:
                if pattern.search(line):
                    found.append(f"{path.relative_to(root).as_posix()}:{number}: {what}: {line.strip()[:120]}")
    return found


def test_no_role_read_in_templates():
    found = role_readings_in_templates()
    assert not found, "Ask user|can:\"…\" or a scope filter instead:\n" + "\n".join(found)


def test_no_role_comparison_outside_the_policy_modules():
    found = role_comparisons()
    assert not found, "Ask user.can(...) or a helper of apps.core.scope instead:\n" + "\n".join(found)


def test_the_check_finds_a_comparison(tmp_path):
    """The patterns catch the shapes that were written inline before."""
    samples = ['if user.role == "township":', "if request.user.is_office:", "if user.sees_everything:",
               "User.objects.filter(role=Role.TOWNSHIP)", "if u.role in OFFICE_ROLES:", "role__in=INSTITUTION_ROLES"]
    for sample in samples:
        assert any(p.search(sample) for p, _ in PATTERNS), sample
    innocent = ["FireRole.MANAGER", "for role in set(gained) & set(LEDGER_ROLES):", "user.can('ledger.edit')"]
    for sample in innocent:
        assert not any(p.search(sample) for p, _ in PATTERNS), sample


def test_every_allowed_module_exists():
    for rel in ALLOWED:
        assert (APPS / rel).exists(), rel
