"""The storefront API (Django REST framework): start a try-on, follow it, erase it."""
