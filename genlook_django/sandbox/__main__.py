"""``python -m genlook_django.sandbox [options]``: the standalone sandbox without a project.

The same server and options as ``manage.py genlook_sandbox``. With ``DJANGO_SETTINGS_MODULE``
set, that project's settings (its ``GENLOOK_SANDBOX``) apply; otherwise the least the
sandbox needs, in memory.
"""

from __future__ import annotations

import os
import secrets
import sys

import django
from django.conf import settings
from django.core.management import call_command


def main(argv: list[str] | None = None) -> None:
    if not os.environ.get("DJANGO_SETTINGS_MODULE") and not settings.configured:
        settings.configure(
            SECRET_KEY=secrets.token_urlsafe(32),  # nothing is signed with it; Django wants one
            DEBUG=False,
            USE_TZ=True,
            INSTALLED_APPS=["genlook_django.sandbox"],
            ROOT_URLCONF="genlook_django.sandbox.standalone_urls",
        )
    django.setup()
    call_command("genlook_sandbox", *(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    main()
