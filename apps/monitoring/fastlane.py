"""Which express lane runs: the Cython build of ``lane.py`` (``scripts/build_lane.py``, run by ``make
setup``) when it was built from the lane.py of this checkout, else lane.py itself as plain Python.

The build is stamped with the SHA-256 of the source it was compiled from; a build of another source (an
edited or updated lane.py not rebuilt yet) is never run. Both are the same code: lane.py's type
declarations are no-ops in plain Python, and ``tests/test_lane.py`` runs its comparisons on each.
The lane also defines the device copies' class: ``ingest.DeviceRow`` is that of the lane chosen when
``ingest`` is imported (an extension type in the build, a plain class in lane.py).
"""
import functools
import hashlib
import importlib
import logging
import sysconfig
from pathlib import Path

log = logging.getLogger(__name__)

SOURCE = Path(__file__).with_name("lane.py")
BUILT_NAME = "_lane_c"


def source_sha():
    return hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def built_path():
    return SOURCE.with_name(BUILT_NAME + sysconfig.get_config_var("EXT_SUFFIX"))


def _built():
    try:
        return importlib.import_module(f"{__package__}.{BUILT_NAME}")
    except ImportError:
        return None


def stamp_path():
    """The hash the build on disk was made from, beside it (for the build script; a process checks the
    module's own ``SOURCE_SHA256``)."""
    return SOURCE.with_name(BUILT_NAME + ".sha256")


def built_is_current():
    """Whether the build on disk is of the current lane.py (without importing it)."""
    stamp = stamp_path()
    return built_path().exists() and stamp.exists() and stamp.read_text().strip() == source_sha()


@functools.cache
def current():
    """The lane this process runs (decided once)."""
    return load()


def load():
    """The lane module to run: the build if it is of the current lane.py, else lane.py."""
    from . import lane

    module = _built()
    if module is None:
        return lane
    if getattr(module, "SOURCE_SHA256", None) != source_sha():
        log.warning("the compiled express lane is of another lane.py: running lane.py (make setup rebuilds it)")
        return lane
    return module

