import gc
import os
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")
application: Callable[..., Any] = get_wsgi_application()
if settings.RESONANZ_LINK_FASTPATH:
    # Short-link redirects answered before Django's handler; everything else passes through unchanged
    # (links/fastpath.py, docs/architecture.md `links`: why, and what it measured).
    from resonanz.links.fastpath import ShortLinkApp

    application = ShortLinkApp(application)
# What is loaded by now (Django, the apps, the URLconf) lives as long as the process: moved out of the
# garbage collector's reach, full collections no longer walk it on busy pages (docs/operations.md).
gc.freeze()
