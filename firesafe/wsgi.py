import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "firesafe.settings")
os.environ.setdefault("FIRESAFE_REQUIRE_SECRET_KEY", "1")  # serving needs a real SECRET_KEY
application = get_wsgi_application()
