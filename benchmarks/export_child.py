"""``python -m benchmarks.export_child USERNAME``: export that user's hazard register (xlsx, the
streamed path the page uses) to a temporary file in this fresh process; print seconds, rows and
peak RSS (``resource.getrusage``) as JSON."""
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")


def main(username):
    import django

    django.setup()
    from apps.core.excel import _temp_file, stream_xlsx
    from apps.hazards.models import Hazard
    from apps.hazards.views import HazardListView
    from apps.orgs.models import User

    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    user = User.objects.get(username=username)
    qs = Hazard.objects.visible_to(user).select_related("institution__township").order_by("-found_at", "-id")
    columns = HazardListView().export_columns
    tmp = _temp_file(".xlsx")
    tmp.close()
    t = time.perf_counter()
    rows = stream_xlsx(tmp.name, "隐患台账", columns, qs.iterator(chunk_size=2000))
    seconds = time.perf_counter() - t
    size = os.path.getsize(tmp.name)
    os.unlink(tmp.name)
    print(json.dumps({"rows": rows, "seconds": round(seconds, 1), "file_mb": round(size / 2**20, 1),
                      "start_rss_mb": round(start_rss, 1),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}))


if __name__ == "__main__":
    main(sys.argv[1])
