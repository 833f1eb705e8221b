"""The storefront API: thin views over ``services.tryons``, ``services.results`` and friends.

Every view answers only to the shopper who owns the object (the pseudonymous shopper key of
the session or user): anyone else gets the same 404 as for an id that never existed.
Unsafe methods need the CSRF token, signed in or not. Files are streamed from their storage
through these views, never linked.
"""

from __future__ import annotations

import contextlib
import mimetypes
from typing import Any

from django.db import connection, transaction
from django.http import FileResponse, Http404
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from drf_spectacular.utils import extend_schema as _extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from genlook_django.conf import genlook_settings
from genlook_django.models import ShopperPhoto, TryOn
from genlook_django.services import files
from genlook_django.services.tryons import (
    consent,
    erasure,
    intake,
    looks,
    photos,
    quotas,
    results,
    shoppers,
    start,
    status_wait,
)

from .authentication import ShopperSessionAuthentication
from .errors import MESSAGES, StorefrontError, error_response, storefront_exception_handler
from .parsers import StorefrontJSONParser
from .serializers import (
    ErrorSerializer,
    MeSerializer,
    TryOnCreateSerializer,
    TryOnSerializer,
    photo_data,
    try_on_data,
)

MULTIPART_OVERHEAD = 64 * 1024  # the form fields and boundaries around the photo
ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=description)
    for code, description in {
        400: "CONSENT_REQUIRED, PHOTO_REQUIRED, PHOTO_INVALID, PHOTO_TOO_SMALL, INVALID_REQUEST",
        403: "CSRF_FAILED",
        404: "PRODUCT_UNAVAILABLE, NOT_FOUND",
        411: "LENGTH_REQUIRED (a multipart body without a valid Content-Length)",
        413: "PHOTO_TOO_LARGE, PHOTO_TOO_MANY_PIXELS",
        415: "PHOTO_UNSUPPORTED_TYPE, PHOTO_HEIC_UNSUPPORTED, UNSUPPORTED_MEDIA_TYPE (not "
        "multipart, a form or JSON)",
        429: "UPLOAD_QUOTA_EXCEEDED, TRY_ON_QUOTA_EXCEEDED, IP_UPLOAD_QUOTA_EXCEEDED, "
        "IP_TRY_ON_QUOTA_EXCEEDED, UPLOAD_BUDGET_EXCEEDED, DAILY_BUDGET_EXCEEDED "
        "(with Retry-After)",
        503: "TRY_ON_UNAVAILABLE, UPLOADS_BUSY (with Retry-After)",
    }.items()
}


def extend_schema(**kwargs: Any) -> Any:
    """drf-spectacular's ``extend_schema`` for a view method, based on its ``AutoSchema``
    whatever the project's ``DEFAULT_SCHEMA_CLASS``: hosts need no REST_FRAMEWORK setting."""

    def decorator(method: Any) -> Any:
        method.schema = AutoSchema
        return _extend_schema(**kwargs)(method)

    return decorator


class StorefrontView(APIView):
    """JSON only, session + CSRF for everyone, no DRF throttles (the quotas are ours)."""

    authentication_classes = [ShopperSessionAuthentication]
    permission_classes = [AllowAny]
    throttle_classes: list[Any] = []
    renderer_classes = [JSONRenderer]
    parser_classes = [StorefrontJSONParser]
    schema = AutoSchema()

    def get_exception_handler(self):
        return storefront_exception_handler

    def shopper_key(self, request: Request, *, create: bool = False) -> str | None:
        return shoppers.shopper_key(request._request, create=create)


def _owned(queryset: Any, request: Request, public_id: Any, view: StorefrontView) -> Any:
    """The shopper's own object; a 404 for anyone else, and for what they erased that
    still waits for a try-on in flight (a withdrawn try-on, a photo still in use)."""
    key = view.shopper_key(request)
    obj = queryset.filter(public_id=public_id).first() if key else None
    if obj is None or obj.shopper_key != key:
        raise Http404
    if isinstance(obj, TryOn) and obj.withdrawn_at is not None:
        raise Http404
    if isinstance(obj, ShopperPhoto) and obj.erasure_requested_at is not None:
        raise Http404
    return obj


def _stream(storage: Any, name: str, *, filename: str, download: bool) -> FileResponse:
    try:
        handle = storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(name)[0] or "image/jpeg"
    extension = mimetypes.guess_extension(content_type) or ".jpg"
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=download,
        filename=filename + (".jpg" if extension == ".jpe" else extension),
    )
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@method_decorator([never_cache, ensure_csrf_cookie], name="dispatch")
class MeView(StorefrontView):
    @extend_schema(
        summary="The shopper's try-on context",
        description="Whether try-on is available now, the consent version (and whether "
        "this session agreed to it), the shopper's last photo (offered for reuse) and, "
        "with `?product=`, their latest finished look for that product (shown again "
        "without a new try-on). Sets the CSRF cookie.",
        parameters=[
            OpenApiParameter(
                "product",
                OpenApiTypes.STR,
                required=False,
                description='A product as the widget names it ("shop.product:12").',
            )
        ],
        responses=MeSerializer,
        tags=["storefront"],
    )
    def get(self, request: Request) -> Response:
        key = self.shopper_key(request)
        photo = start.last_photo(key) if key else None
        reference = request.query_params.get("product") or ""
        look = looks.latest_look(key, reference) if reference else None
        return Response(
            {
                "photo": photo_data(request, photo) if photo else None,
                "available": start.credits_paused_until() is None,
                "consent_version": str(genlook_settings.CONSENT_VERSION),
                "consent_given": consent.given(request._request),
                "look": try_on_data(request, look) if look else None,
            }
        )


def refuse_oversized_body(request: Request) -> None:
    """Raise ``StorefrontError`` for a POST whose body must not be read: larger than a
    photo may be (413 ``PHOTO_TOO_LARGE``), or multipart without a usable Content-Length
    (411 ``LENGTH_REQUIRED``: a chunked upload has no size to check beforehand). Only
    headers are looked at."""
    meta = request.META
    length = str(meta.get("CONTENT_LENGTH") or "").strip()
    multipart = str(meta.get("CONTENT_TYPE") or "").lower().startswith("multipart/")
    if not (length.isascii() and length.isdigit()):  # "²".isdigit(), yet int("²") fails
        if multipart or length or meta.get("HTTP_TRANSFER_ENCODING"):
            raise StorefrontError(
                "LENGTH_REQUIRED", MESSAGES["LENGTH_REQUIRED"], status.HTTP_411_LENGTH_REQUIRED
            )
        return  # no body at all: the serializer says what is missing
    if int(length) > int(genlook_settings.PHOTO_MAX_BYTES) + MULTIPART_OVERHEAD:
        error = photos.too_large_error(photos.PhotoLimits.from_settings())
        raise StorefrontError(error.code, error.message, error.status)


# Not atomic even with ATOMIC_REQUESTS: the quota reservation commits on its own, so that
# parallel requests see it (services.quotas.reserve).
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class TryOnListView(StorefrontView):
    parser_classes = [MultiPartParser, FormParser, StorefrontJSONParser]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Before authentication: its CSRF check reads request.POST, i.e. the whole body.
        if request.method == "POST":
            refuse_oversized_body(request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        summary="Start a try-on",
        description="Multipart: a `photo`, or `reuse_photo=true`; the `product`; "
        "`consent=true` (needed once per session and consent version). Answers 202 with "
        "the try-on, usually `pending`: follow it with GET /tryons/{id}/.",
        request={"multipart/form-data": TryOnCreateSerializer},
        responses={202: TryOnSerializer, **ERRORS},
        tags=["storefront"],
    )
    def post(self, request: Request) -> Response:
        # The body's size was checked in initial(), before anything read it.
        serializer = TryOnCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            product = start.resolve_product(data["product"])
            try_on = start.start(
                shopper_key=self.shopper_key(request, create=True),
                product=product,
                consent=data["consent"] or consent.given(request._request),
                photo_file=data.get("photo"),
                reuse_photo=data["reuse_photo"],
                client_ip=quotas.client_ip(request._request),
            )
        except start.TryOnRefused as exc:
            return error_response(exc.code, exc.message, exc.status)
        except photos.PhotoError as exc:
            extra = {} if exc.retry_after is None else {"retry_after": exc.retry_after}
            return error_response(exc.code, exc.message, exc.status, **extra)
        except quotas.QuotaExceeded as exc:
            return error_response(
                exc.code,
                exc.message,
                status.HTTP_429_TOO_MANY_REQUESTS,
                retry_after=exc.retry_after,
            )
        consent.remember(request._request)  # the next products need no new tick
        return Response(try_on_data(request, try_on), status=status.HTTP_202_ACCEPTED)


# Not atomic even with ATOMIC_REQUESTS: a waiting request must see the changes other
# processes commit meanwhile (a transaction at REPEATABLE READ would not).
@method_decorator([never_cache, transaction.non_atomic_requests], name="dispatch")
class TryOnDetailView(StorefrontView):
    @extend_schema(
        summary="A try-on's status",
        description="For its owner only. With `?wait=<seconds>` (at most STATUS_WAIT_MAX, "
        "10 by default) an open try-on's answer is held until its status changes or the "
        "wait ends, whichever comes first; the answer then says `poll_after_ms: 0` (ask "
        "again at once) and its `Server-Timing` header `wait;dur=<ms>` how long it was "
        "held. Without a Celery worker, a pending try-on is checked with Genlook when its "
        "last check is older than STATUS_POLL_INTERVAL (during a wait too). A try-on still "
        "open after RESULT_TIMEOUT, in any state, is failed (TIMED_OUT).",
        parameters=[
            OpenApiParameter(
                "wait",
                OpenApiTypes.FLOAT,
                required=False,
                description="Seconds to wait for a change of status (0 to STATUS_WAIT_MAX).",
            )
        ],
        responses={200: TryOnSerializer, 404: ERRORS[404]},
        tags=["storefront"],
    )
    def get(self, request: Request, public_id: Any) -> Response:
        try_on = _owned(
            TryOn.objects.select_related("photo", "content_type"), request, public_id, self
        )
        wait = status_wait.parse_wait(request.query_params.get("wait"))
        if not wait:
            try_on = results.refresh_status(try_on)  # RESULT_TIMEOUT, poll-through
            return Response(try_on_data(request, try_on))
        try_on, waited = results.wait_for_status(try_on, wait)
        if try_on is None:  # erased while waiting
            raise Http404
        response = Response(try_on_data(request, try_on, waited=True))
        response["Server-Timing"] = f"wait;dur={waited * 1000:.1f}"
        return response

    @extend_schema(
        summary="Erase a try-on",
        description="Deletes the try-on, its result and its photo here, and asks Genlook to "
        "erase what it holds for this shopper (DELETE /customers/{id}).",
        responses={204: None, 403: ERRORS[403], 404: ERRORS[404]},
        tags=["storefront"],
    )
    def delete(self, request: Request, public_id: Any) -> Response:
        # In one transaction under ATOMIC_REQUESTS, as before the view opted out of it.
        atomic = connection.settings_dict.get("ATOMIC_REQUESTS")
        with transaction.atomic() if atomic else contextlib.nullcontext():
            try_on = _owned(TryOn.objects.select_related("photo"), request, public_id, self)
            erasure.erase_try_on(try_on)
        return Response(status=status.HTTP_204_NO_CONTENT)


class FileView(StorefrontView):
    """Answers an image whatever the request's Accept header (``<img>``, a download link);
    its errors are JSON."""

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        return super().perform_content_negotiation(request, force=True)


class TryOnResultView(FileView):
    @extend_schema(
        summary="A try-on's result image",
        description="The JPEG, for its owner only; `?download=1` sends it as an attachment.",
        parameters=[OpenApiParameter("download", OpenApiTypes.BOOL, required=False)],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ERRORS[404]},
        tags=["storefront"],
    )
    def get(self, request: Request, public_id: Any) -> FileResponse:
        try_on = _owned(TryOn.objects.all(), request, public_id, self)
        if try_on.state != TryOn.State.COMPLETED or not try_on.result_file:
            raise Http404
        return _stream(
            files.results_storage(),
            try_on.result_file,
            filename="try-on",
            download=request.query_params.get("download") in ("1", "true"),
        )


class PhotoDetailView(FileView):
    @extend_schema(
        summary="A shopper's photo",
        description="The normalised photo (upright, no EXIF), for its owner only.",
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ERRORS[404]},
        tags=["storefront"],
    )
    def get(self, request: Request, public_id: Any) -> FileResponse:
        photo = _owned(ShopperPhoto.objects.all(), request, public_id, self)
        photo = intake.shown(photo)  # never the upload as it came
        if photo is None:
            raise Http404
        return _stream(files.photos_storage(), photo.file_name, filename="photo", download=False)

    @extend_schema(
        summary="Erase a photo",
        description="Deletes the photo here and asks Genlook to erase this shopper's data; "
        "try-ons made with it keep their result.",
        responses={204: None, 403: ERRORS[403], 404: ERRORS[404]},
        tags=["storefront"],
    )
    def delete(self, request: Request, public_id: Any) -> Response:
        photo = _owned(ShopperPhoto.objects.all(), request, public_id, self)
        erasure.erase_photo(photo)
        return Response(status=status.HTTP_204_NO_CONTENT)
