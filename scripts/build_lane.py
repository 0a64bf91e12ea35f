"""Compile the monitoring ingest's express lane (``apps/monitoring/lane.py``) with Cython.

The lane is plain Python with Cython type declarations (``cython.locals``), which plain Python ignores.
This builds it as the extension module ``apps.monitoring._lane_c`` (git-ignored), stamped with the hash
of the source it was built from; ``apps/monitoring/fastlane.py`` runs it only while that hash is the
source's, and lane.py itself otherwise. So a missing compiler costs speed, never correctness, and an
edited lane.py is never shadowed by a stale build.

Run by ``make setup``: builds unless a build of the current lane.py is in place (``--force``: anyway);
``--check`` exits 1 unless one is. Without a C compiler it says so and exits 0 (``--strict``: 1).
"""
import shutil
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apps.monitoring.fastlane import BUILT_NAME, SOURCE, built_is_current, built_path, source_sha, stamp_path  # noqa: E402


def build():
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    sha = source_sha()
    with tempfile.TemporaryDirectory(prefix="firesafe-lane-") as tmp:
        tmp = Path(tmp)
        # Under its package path, so the module is compiled as apps.monitoring._lane_c (relative imports).
        pkg = tmp / "apps" / "monitoring"
        pkg.mkdir(parents=True)
        (tmp / "apps" / "__init__.py").touch()
        (pkg / "__init__.py").touch()
        src = pkg / f"{BUILT_NAME}.py"
        src.write_text(SOURCE.read_text(encoding="utf-8") + f'\n\nSOURCE_SHA256 = "{sha}"\n', encoding="utf-8")
        ext = Extension(f"apps.monitoring.{BUILT_NAME}", [str(src)])
        modules = cythonize([ext], compiler_directives={"language_level": 3}, quiet=True, build_dir=str(tmp / "c"))
        dist = Distribution({"ext_modules": modules})
        cmd = dist.get_command_obj("build_ext")
        cmd.build_lib, cmd.build_temp = str(tmp / "lib"), str(tmp / "obj")
        dist.run_command("build_ext")
        name = f"{BUILT_NAME}{sysconfig.get_config_var('EXT_SUFFIX')}"
        out = built_path()
        tmp_out = out.with_suffix(".tmp")
        shutil.copyfile(tmp / "lib" / "apps" / "monitoring" / name, tmp_out)
        tmp_out.replace(out)  # atomic: a running process keeps the file it loaded
        stamp_path().write_text(sha + "\n")
    return out


def main(argv):
    current = built_is_current()
    if "--check" in argv:
        print("the compiled lane is of the current lane.py" if current else "no compiled lane of the current lane.py")
        return 0 if current else 1
    if current and "--force" not in argv:
        return 0
    try:
        out = build()
    except Exception as exc:  # noqa: BLE001 - no compiler, no headers: the plain lane runs
        print(f"the lane could not be compiled ({type(exc).__name__}: {exc}); lane.py runs as plain Python")
        return 1 if "--strict" in argv else 0
    print(f"compiled the express lane: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
