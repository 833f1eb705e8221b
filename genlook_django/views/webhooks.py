"""The webhook receiver: ``POST <genlook urls>/webhooks/<token>/``.

Thin: it bounds the body, then ``services.webhooks.receive`` stores, authenticates,
parses, deduplicates and enqueues. Every case has its own status code (see
docs/webhooks.md); bad input never causes a 500.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from genlook_django.conf import genlook_settings
from genlook_django.services import webhooks

logger = logging.getLogger("genlook_django.webhooks")

SIGNATURE_META = "HTTP_" + webhooks.SIGNATURE_HEADER.upper().replace("-", "_")


def _answer(status_code: int, body: dict[str, str]) -> JsonResponse:
    response = JsonResponse(body, status=status_code)
    # Django's request logger would write the path, token included, for every 4xx: the
    # outcome is logged below without it.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _read_body(request: HttpRequest, limit: int) -> tuple[bytes, bool]:
    """At most ``limit`` bytes of the body, and whether there was more. A body declared
    larger than the limit is not read beyond it (only its head is kept, for the log)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return request.read(limit), True
    data = request.read(limit + 1)
    return data[:limit], len(data) > limit


@csrf_exempt
@transaction.non_atomic_requests  # the delivery is on record even if processing fails
def receive(request: HttpRequest, token: str) -> JsonResponse:
    if request.method != "POST":
        response = _answer(405, {"status": "rejected", "reason": "method_not_allowed"})
        response["Allow"] = "POST"
        return response
    if not webhooks.enabled():
        return _answer(404, {"status": "rejected", "reason": "webhooks_disabled"})
    try:
        body, truncated = _read_body(request, int(genlook_settings.WEBHOOK_MAX_BODY))
    except OSError:  # the sender went away mid-body
        return _answer(400, {"status": "rejected", "reason": "unreadable_body"})
    receipt = webhooks.receive(
        token=token,
        body=body,
        truncated=truncated,
        headers=webhooks.clean_headers(request.META),
        signature=request.META.get(SIGNATURE_META),
        remote_addr=request.META.get("REMOTE_ADDR"),
    )
    pk = receipt.delivery.pk if receipt.delivery else None
    if receipt.status_code >= 400:
        logger.info("Webhook delivery %s refused (%s): %s", pk, receipt.status_code, receipt.reason)
    else:
        logger.debug("Webhook delivery %s %s", pk, receipt.status)
    return _answer(receipt.status_code, receipt.body())
