"""The project's URLs plus the bare baseline view of the benchmarks (only loaded by ``python -m benchmarks``)."""
from django.urls import path

from benchmarks.bench_hazards import baseline_view
from firesafe.urls import urlpatterns as project

urlpatterns = [path("__bench__/baseline/", baseline_view), *project]
