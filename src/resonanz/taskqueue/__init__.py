"""The worker entry (``resonanz worker``), the periodic ticker, worker heartbeats and the reaper.

Both deployment forms run tasks on django-tasks-db's database backend (SQLite embedded, PostgreSQL
scaled); this package adds what that backend lacks: recovery of tasks a crashed worker held.
Nothing is imported here so that importing the package (for example while settings are being loaded)
never pulls in Django internals.
"""
