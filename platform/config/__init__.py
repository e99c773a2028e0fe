"""Project configuration: settings, URL routing per schema, Celery app, WSGI/ASGI entry points.

The Celery app is loaded with the package (Celery's documented Django pattern), so every
process that imports settings — web, ``manage.py``, worker — sends tasks to the configured
broker. Without it, a task sent before anything imported ``config.celery_app`` went to
Celery's default broker (``amqp://localhost``) and was never run.
"""

from config.celery_app import app as celery_app

__all__ = ("celery_app",)
