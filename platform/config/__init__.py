"""Project configuration: settings, URL routing per schema, Celery app, WSGI/ASGI entry points."""
