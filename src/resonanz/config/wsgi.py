import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")
application = get_wsgi_application()
# What is loaded by now (Django, the apps, the URLconf) lives as long as the process: moved out of the
# garbage collector's reach, full collections no longer walk it on busy pages (docs/operations.md).
gc.freeze()
