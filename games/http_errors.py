"""The JSON error envelope for everything under ``/api/`` and ``/webhooks/``.

Clients of those prefixes are programs, so every refusal there is
``{"error": {"code", "message"}}``, including the answers Django and
django-ninja would otherwise give as HTML or plain text: an unknown URL
(404), a wrong method (405), a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``
(413) and an unexpected exception (500, whose traceback is logged, never
sent). Three layers make sure of it:

* :func:`json_errors` wraps each view of those prefixes (every API view
  through :func:`json_error_urls`, and the webhook views);
* :func:`unknown_url` answers every path under them that no view matches;
* :func:`bad_request`, :func:`permission_denied`, :func:`page_not_found` and
  :func:`server_error` are the project's error handlers (``handler400`` ... in
  the root URLconf), for what fails before a view runs; elsewhere they give
  Django's usual pages.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from asgiref.sync import iscoroutinefunction
from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import URLPattern
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from games.engine.errors import ErrorCode

logger = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/webhooks/")
# The code and message of an answer Django makes on its own, by HTTP status.
GENERIC = {
    code.http_status: (code, message)
    for code, message in (
        (ErrorCode.BAD_REQUEST, "the request is malformed"),
        (ErrorCode.FORBIDDEN, "this request is not allowed"),
        (ErrorCode.NOT_FOUND, "no such URL"),
        (ErrorCode.METHOD_NOT_ALLOWED, "this URL does not take that method"),
        (ErrorCode.REQUEST_TOO_LARGE, "the request body is larger than the server accepts"),
        (ErrorCode.INTERNAL_ERROR, "the server failed to answer; the error is logged"),
    )
}

View = Callable[..., HttpResponseBase]


def error_response(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def generic_error(status: int, message: str | None = None) -> JsonResponse:
    code, default = GENERIC[status]
    return error_response(status, code, message or default)


def too_large() -> JsonResponse:
    return generic_error(413, "the request body is larger than the server accepts (DATA_UPLOAD_MAX_MEMORY_SIZE)")


def exception_response(request: HttpRequest, exc: Exception) -> JsonResponse:
    """The envelope for an exception a view let through, with the status
    Django would give it; anything unexpected is a 500, logged with its
    traceback, which is never sent."""
    if isinstance(exc, RequestDataTooBig):
        return too_large()
    if isinstance(exc, SuspiciousOperation):
        logger.warning("refused %s %s: %s", request.method, request.path, exc)
        return generic_error(400)
    if isinstance(exc, PermissionDenied):
        return generic_error(403)
    if isinstance(exc, Http404):
        return generic_error(404)
    logger.error("unexpected error answering %s %s", request.method, request.path, exc_info=exc)
    return generic_error(500)


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PREFIXES)


def _as_json(response: HttpResponseBase) -> HttpResponseBase:
    """An error response that is not JSON, as the envelope (keeping ``Allow``)."""
    if response.status_code not in GENERIC or response.get("Content-Type", "").startswith("application/json"):
        return response
    enveloped = generic_error(response.status_code)
    if response.has_header("Allow"):
        enveloped["Allow"] = response["Allow"]
    return enveloped


def json_errors(view: View) -> View:
    """Answer every failure of ``view`` with the envelope: an exception as
    :func:`exception_response` says, and an HTML or text error page (a 405
    from ``require_POST`` or django-ninja) converted."""
    if iscoroutinefunction(view):

        @functools.wraps(view)
        async def wrapped_async(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            try:
                response = await view(request, *args, **kwargs)
            except Exception as exc:
                return exception_response(request, exc)
            return _as_json(response)

        return wrapped_async

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
        try:
            response = view(request, *args, **kwargs)
        except Exception as exc:
            return exception_response(request, exc)
        return _as_json(response)

    return wrapped


def json_error_urls(urls: tuple[list, str, str]) -> tuple[list, str, str]:
    """``api.urls`` with each view wrapped in :func:`json_errors`."""
    patterns, app_name, namespace = urls
    wrapped = [
        URLPattern(p.pattern, json_errors(p.callback), p.default_args, p.name) if isinstance(p, URLPattern) else p
        for p in patterns
    ]
    return wrapped, app_name, namespace


@csrf_exempt
def unknown_url(request: HttpRequest, *args: object, **kwargs: object) -> JsonResponse:
    """Any path under the JSON prefixes that no view matches (also when
    DEBUG is on, where Django would show its HTML 404 page)."""
    return generic_error(404, f"no such URL: {request.path}")


# --- the root URLconf's handlers: what fails before a view runs ---------------


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if not wants_json(request):
        return defaults.bad_request(request, exception)
    return too_large() if isinstance(exception, RequestDataTooBig) else generic_error(400)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return generic_error(403) if wants_json(request) else defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return generic_error(404) if wants_json(request) else defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django has logged the traceback (django.request) before calling this.
    return generic_error(500) if wants_json(request) else defaults.server_error(request)
