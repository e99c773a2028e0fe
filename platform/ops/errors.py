"""The 500 handler of both URL configurations: a database that cannot be reached is 503.

While the database fails over (Patroni promotes the standby, ``infra/README.md``) or a
connection is cut, a request fails with the driver's ``OperationalError`` or
``InterfaceError``. That is not a bug in the request but the service being briefly
unavailable, so the answer is 503 with ``Retry-After``, which clients, load balancers and the
API's integrators know to retry, not 500. The pages are rendered without a request context:
nothing on the way may need the database that is missing.
"""

from __future__ import annotations

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader

RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: called by Django inside its handling of the uncaught exception."""
    if not database_unavailable(sys.exc_info()[1]):
        return HttpResponseServerError(loader.get_template("500.html").render())
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "error": {
                    "code": "unavailable",
                    "message": "The service is briefly unavailable; retry the request.",
                }
            },
            status=503,
        )
    else:
        response = HttpResponse(loader.get_template("errors/unavailable.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
