"""``manage.py genlook_erase``: an erasure request (GDPR art. 17), from a shell.

Examples::

    manage.py genlook_erase --user alice           # a user, by username or primary key
    manage.py genlook_erase --key a_3f9c...        # a shopper key (visitors: from the admin)
    manage.py genlook_erase --user 42 --dry-run    # only count what would go

Deletes the shopper's try-ons, result images, photos, add-to-cart events and quota records
here, and asks Genlook to erase what it holds for them (``DELETE /customers/{key}``, a
Celery task retried while Genlook cannot be reached). Deleting a user erases them already.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from genlook_django.services import retention
from genlook_django.services.tryons import shoppers


class Command(BaseCommand):
    help = "Erase one shopper's try-ons and photos, here and at Genlook."

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="A user's username or primary key.")
        who.add_argument("--key", help="A shopper key (u_... or a_...).")
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be erased; change nothing."
        )

    def _user_key(self, value: str) -> str:
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: value}).first()
        if user is None and value.isdigit():
            user = model._default_manager.filter(pk=value).first()
        if user is None:
            raise CommandError(f"No user {value!r} (by {model.USERNAME_FIELD} or primary key).")
        return shoppers.user_key(user.pk)

    def handle(self, *args: Any, **options: Any) -> None:
        key = self._user_key(options["user"]) if options["user"] else options["key"].strip()
        if not key:
            raise CommandError("The shopper key is empty.")
        found = retention.local_data(key)
        self.stdout.write(
            f"Shopper {key[:10]}…: {found.try_ons} try-on(s), {found.photos} photo(s), "
            f"{found.funnel_events} add-to-cart event(s), {found.usage_records} quota record(s)."
        )
        if options["dry_run"]:
            self.stdout.write(self.style.WARNING("Dry run: nothing erased."))
            return
        retention.erase_shopper(key)
        self.stdout.write(
            self.style.SUCCESS("Erased here; Genlook is asked to erase this shopper too.")
        )
