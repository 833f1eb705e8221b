from django.apps import AppConfig


class CatalogSeedConfig(AppConfig):
    """The example's demo catalog (``manage.py seed_oscar_demo``); no models."""

    name = "example_oscar.catalog_seed"
    label = "catalog_seed"
