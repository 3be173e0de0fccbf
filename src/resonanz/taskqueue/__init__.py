"""Task queue backends for Django's built-in tasks framework (``django.tasks``).

The embedded deployment uses the ORM backend from ``django_tasks_db``; the
scaled deployment (PostgreSQL + Redis, workers on many machines) uses
:class:`resonanz.taskqueue.redis_backend.RedisBackend` together with
:class:`resonanz.taskqueue.redis_worker.RedisWorker`.

This package is deliberately not a Django app: it has no models and no
migrations. Nothing is imported here so that importing the package (for
example while settings are being loaded) never pulls in ``redis`` or Django
internals.
"""
