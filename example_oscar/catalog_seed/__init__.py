"""The Oscar example's demo catalog: ``manage.py seed_oscar_demo``."""
