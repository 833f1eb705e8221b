"""Share links: a shopper's link to one finished look, for a limited time."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from .tryons import TryOn


class ShareLink(models.Model):
    """A link to one try-on's result, opened without the shopper's session.

    Only the SHA-256 of its token is kept (the token is in the URL the shopper was given),
    so a leaked database opens no look. Revoking it deletes the row; so does deleting the
    try-on (cascade).
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    try_on = models.ForeignKey(
        TryOn, on_delete=models.CASCADE, related_name="share_links", verbose_name=_("try-on")
    )
    token_hash = models.CharField(_("token (hashed)"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), db_index=True)

    class Meta:
        verbose_name = _("share link")
        verbose_name_plural = _("share links")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.public_id)
