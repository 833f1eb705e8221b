"""Small pieces shared by the app's admin pages."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class NoBulkDeleteMixin:
    """Hides Django's "delete selected" action: deleting these rows needs the page's own
    action, which also cleans up files and Genlook's copies."""

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes action_location; 5.2 does not know it.
        extra = {} if action_location is None else {"action_location": action_location}
        actions = super().get_actions(request, **extra)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return actions
