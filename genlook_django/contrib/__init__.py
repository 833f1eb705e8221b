"""Ready-made integrations with shop frameworks: ``genlook_django.contrib.oscar``."""
