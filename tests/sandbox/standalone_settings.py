"""The least a project needs to run the sandbox on its own (used by the command test)."""

SECRET_KEY = "sandbox-standalone-tests-only"
DEBUG = False
ALLOWED_HOSTS: list[str] = []  # SandboxServer does not depend on the host's ALLOWED_HOSTS
USE_TZ = True
INSTALLED_APPS = ["genlook_django.sandbox"]
ROOT_URLCONF = "genlook_django.sandbox.standalone_urls"
