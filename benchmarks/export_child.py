"""``python -m benchmarks.export_child USERNAME``: export that user's hazard register (xlsx) in this
fresh process exactly as a big export runs: an ``ExportJob`` of the register page, run by
``apps.core.exports.run_job`` (scope re-applied, streamed in constant memory, file stored, owner
notified); print seconds, rows and this process's peak RSS as JSON.

The peak is ``VmHWM`` of ``/proc/self/status`` (the high-water mark of this process's own memory):
``getrusage().ru_maxrss`` survives ``execve`` on Linux, so in a child started by a big parent it
reports the parent's peak, not the export's."""
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")


def peak_rss_mb():
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main(username):
    import django

    django.setup()
    from django.conf import settings

    from apps.core.exports import create_job, run_job
    from apps.hazards.views import HazardListView
    from apps.orgs.models import User

    settings.EXPORT_JOB_QUEUE = "off"  # created queued, then run here, in the foreground
    start_rss = peak_rss_mb()
    user = User.objects.get(username=username)
    job = create_job(user, HazardListView(), os.environ.get("BENCH_EXPORT_FORMAT", "xlsx"), {})
    t = time.perf_counter()
    job = run_job(job.pk)
    seconds = time.perf_counter() - t
    if job.state != "done":
        raise SystemExit(f"export job failed: {job.error}")
    size = job.file.size
    job.file.delete(save=False)
    job.delete()
    print(json.dumps({"rows": job.rows_done, "seconds": round(seconds, 1), "file_mb": round(size / 2**20, 1),
                      "start_rss_mb": start_rss, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    main(sys.argv[1])
