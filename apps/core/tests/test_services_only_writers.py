"""Services are the only writers: views and viewsets hand data to a service (``apps/<app>/services.py``,
built on ``apps.core.services.write``), which checks the policy, validates, writes and leaves the
trail. This test reads the view modules and fails on a direct write."""
import ast
import inspect
from pathlib import Path

import pytest
from rest_framework import mixins

APPS = Path(__file__).resolve().parents[2]
# Every app (issue 12): its views and viewsets write through its services.
CHECKED_APPS = ("inspections", "training", "ledger", "monitoring", "hazards", "assessment", "dashboard", "orgs",
                "core")

# (module, function, call) that may write directly, and why.
ALLOWED = {
    ("core/views.py", "*", "save"): "a user marks their own notifications read (their inbox, not a record)",
    ("core/api_views.py", "*", "save"): "a user marks their own notifications read (their inbox, not a record)",
    ("core/api.py", "*", "create"): "the login machinery issues an API token",
    ("core/api.py", "*", "delete"): "a user revokes their own API token",
    ("orgs/views.py", "*", "delete"): "a user revokes their own API token",
    ("inspections/views.py", "_drop_kept", "delete"): "removes the user's own pending upload files from "
                                                      "storage after a submission (files, not records)",
}


def _view_modules():
    for app in CHECKED_APPS:
        base = APPS / app
        yield from sorted(p for p in [base / "views.py", base / "api_views.py", base / "api.py"] if p.exists())
        if (base / "api").is_dir():
            yield from sorted((base / "api").glob("*.py"))


def _direct_writes(path):
    """Calls that write a model: ``x.save()`` (not ``form.save(commit=False)``, not an image's
    ``img.save(buffer)``), ``x.delete()``, ``Model.objects.create(...)``, ``serializer.save()``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for func in [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)] or [tree]:
        for node in ast.walk(func):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            name = node.func.attr
            if name == "save":
                no_commit = any(k.arg == "commit" and isinstance(k.value, ast.Constant) and k.value.value is False
                                for k in node.keywords)
                if no_commit or node.args:  # an unsaved instance from a form; an image written to a buffer
                    continue
            elif name == "delete":
                pass
            elif name in ("create", "bulk_create", "get_or_create", "update_or_create"):
                owner = node.func.value
                if not (isinstance(owner, ast.Attribute) and owner.attr == "objects"):
                    continue
            else:
                continue
            found.append((getattr(func, "name", "<module>"), name, node.lineno))
    return found


def test_view_modules_write_through_services_only():
    bad = []
    for path in _view_modules():
        rel = path.relative_to(APPS).as_posix()
        for func, call, line in _direct_writes(path):
            if (rel, "*", call) in ALLOWED or (rel, func, call) in ALLOWED:
                continue
            bad.append(f"apps/{rel}:{line} {func}() calls .{call}(")
    assert not bad, "Call a service of the app instead (apps.core.services.write):\n" + "\n".join(sorted(set(bad)))


def test_the_check_sees_a_direct_write(tmp_path):
    sample = tmp_path / "views.py"
    sample.write_text("def v(request, form):\n    obj = form.save(commit=False)\n    obj.save()\n"
                      "    Thing.objects.create(a=1)\n    img.save(buf)\n    obj.delete()\n")
    assert [c for _f, c, _l in _direct_writes(sample)] == ["save", "create", "delete"]


def _viewsets():
    from django.urls import get_resolver

    seen = set()

    def walk(patterns):
        for p in patterns:
            if hasattr(p, "url_patterns"):
                yield from walk(p.url_patterns)
                continue
            cls = getattr(p.callback, "cls", None)
            if cls is not None and cls not in seen and cls.__module__.split(".")[1] in CHECKED_APPS:
                seen.add(cls)
                yield cls

    return list(walk(get_resolver().url_patterns))


DEFAULTS = [("post", "create", "perform_create", mixins.CreateModelMixin),
            ("put", "update", "perform_update", mixins.UpdateModelMixin),
            ("patch", "partial_update", "perform_update", mixins.UpdateModelMixin),
            ("delete", "destroy", "perform_destroy", mixins.DestroyModelMixin)]


@pytest.mark.parametrize("viewset", _viewsets(), ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_every_writing_viewset_hands_its_writes_to_a_service(viewset):
    """A viewset that accepts writes overrides DRF's default ``perform_*`` (which would save the
    serializer directly) with a call to a service, or replaces the whole handler (``create`` …),
    whose body the module check above reads for direct writes."""
    methods = set(getattr(viewset, "http_method_names", []))
    for method, handler, hook, mixin in DEFAULTS:
        if method in methods and issubclass(viewset, mixin):
            replaced = getattr(viewset, handler) is not getattr(mixin, handler)
            own_hook = getattr(viewset, hook) is not getattr(mixin, hook)
            assert replaced or own_hook, f"{viewset.__name__}.{hook} saves directly"
            if replaced and not own_hook:  # a handler handing back to DRF's would reach the default save
                assert "super()" not in inspect.getsource(getattr(viewset, handler)), \
                    f"{viewset.__name__}.{handler} calls DRF's, which saves directly"
