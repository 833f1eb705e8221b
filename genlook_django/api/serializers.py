"""The storefront API's request and answer shapes (they also describe the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from genlook_django.models import ShopperPhoto, TryOn
from genlook_django.services.tryons import results

from .errors import public_failure


class TryOnCreateSerializer(serializers.Serializer):
    product = serializers.CharField(
        max_length=300,
        help_text='The product, as the widget names it: "<app_label>.<model>:<pk>", e.g. '
        '"shop.product:12" (the `data-product` of the rendered button).',
    )
    photo = serializers.FileField(
        required=False,
        allow_empty_file=True,
        use_url=False,
        help_text="A photo of the shopper: JPEG, PNG or WebP (HEIC with the optional "
        "pillow-heif), at most 10 MB. Leave it out with reuse_photo=true.",
    )
    reuse_photo = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Use the shopper's last photo instead of a new one.",
    )
    consent = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The shopper agreed to the use of their photo (must be true, unless "
        "this session already agreed to the current consent version).",
    )


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField(help_text="Safe to show to the shopper, translated.")
    status = serializers.IntegerField()
    retry_after = serializers.IntegerField(required=False, help_text="Seconds (429 only).")
    details = serializers.ListField(child=serializers.DictField(), required=False)


class FailureSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class PhotoSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField(help_text="The normalised photo, for its owner only.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class TryOnSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=TryOn.State.choices)
    product = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    elapsed_seconds = serializers.FloatField()
    photo_url = serializers.CharField(allow_null=True)
    result_url = serializers.CharField(allow_null=True)
    download_url = serializers.CharField(allow_null=True)
    error = FailureSerializer(allow_null=True)
    poll_after_ms = serializers.IntegerField(
        allow_null=True,
        help_text="Ask again after this many milliseconds (just after the next check with "
        "Genlook is due; 0 after a `?wait=` request); null once final.",
    )


class MeSerializer(serializers.Serializer):
    photo = PhotoSerializer(allow_null=True, help_text="The last photo, offered for reuse.")
    available = serializers.BooleanField(help_text="False while try-on is paused.")
    consent_version = serializers.CharField()
    consent_given = serializers.BooleanField(
        help_text="This session already agreed to the current consent version."
    )
    look = TryOnSerializer(
        allow_null=True,
        help_text="With ?product=: the shopper's latest finished try-on of it, its result "
        "still kept (RETENTION_DAYS).",
    )


def _url(request: Any, name: str, public_id: Any) -> str:
    namespace = getattr(getattr(request, "resolver_match", None), "namespace", "") or "genlook"
    return reverse(f"{namespace}:{name}", kwargs={"public_id": public_id})


def photo_data(request: Any, photo: ShopperPhoto) -> dict[str, Any]:
    return {
        "id": photo.public_id,
        "url": _url(request, "photo-detail", photo.public_id),
        "width": photo.width,
        "height": photo.height,
        "created_at": photo.created_at,
    }


def try_on_data(request: Any, try_on: TryOn, *, waited: bool = False) -> dict[str, Any]:
    """The try-on as the API shows it. ``waited``: the request already waited for a change
    (``?wait=``), so an open try-on may be asked about again at once."""
    end = try_on.finished_at or timezone.now()
    wait = results.poll_after(try_on)
    if waited and wait is not None:
        wait = 0.0
    completed = try_on.state == TryOn.State.COMPLETED and bool(try_on.result_file)
    result_url = _url(request, "tryon-result", try_on.public_id) if completed else None
    return {
        "id": try_on.public_id,
        "status": try_on.state,
        "product": f"{try_on.content_type.app_label}.{try_on.content_type.model}:"
        f"{try_on.object_id}",
        "created_at": try_on.created_at,
        "finished_at": try_on.finished_at,
        "elapsed_seconds": round(max(0.0, (end - try_on.created_at).total_seconds()), 1),
        "photo_url": _url(request, "photo-detail", try_on.photo.public_id)
        if try_on.photo_id and try_on.photo
        else None,
        "result_url": result_url,
        "download_url": f"{result_url}?download=1" if result_url else None,
        "error": public_failure(try_on.error_code) if try_on.state == TryOn.State.FAILED else None,
        "poll_after_ms": None if wait is None else round(wait * 1000),
    }
