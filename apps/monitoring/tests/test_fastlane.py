"""Which express lane runs (``fastlane``): the Cython build only while it is of the current lane.py."""
import hashlib
import subprocess
import sys

from apps.monitoring import fastlane, lane


class _Build:
    def __init__(self, sha):
        self.SOURCE_SHA256 = sha


def test_a_build_of_the_current_source_runs(monkeypatch):
    build = _Build(fastlane.source_sha())
    monkeypatch.setattr(fastlane, "_built", lambda: build)
    assert fastlane.load() is build


def test_a_build_of_another_source_never_runs(monkeypatch, caplog):
    monkeypatch.setattr(fastlane, "_built", lambda: _Build("0" * 64))
    assert fastlane.load() is lane
    assert "another lane.py" in caplog.text


def test_without_a_build_lane_py_runs(monkeypatch):
    monkeypatch.setattr(fastlane, "_built", lambda: None)
    assert fastlane.load() is lane


def test_an_edited_lane_py_is_not_shadowed_by_its_old_build(monkeypatch):
    edited = hashlib.sha256(fastlane.SOURCE.read_bytes() + b"\n# edited\n").hexdigest()
    monkeypatch.setattr(fastlane, "source_sha", lambda: edited)
    assert fastlane.load() is lane  # the process runs the source
    assert not fastlane.built_is_current()  # and the build script builds it again


def test_the_build_script_checks_the_build_of_the_current_source():
    out = subprocess.run([sys.executable, "scripts/build_lane.py", "--check"], capture_output=True, text=True,
                         cwd=fastlane.SOURCE.parents[2])
    built = fastlane._built() is not None and fastlane.load() is not lane
    assert out.returncode == (0 if fastlane.built_is_current() else 1), out.stdout
    if fastlane.built_is_current():
        assert built
