"""django-oscar out of the box: add ``genlook_django.contrib.oscar`` to ``INSTALLED_APPS``.

Oscar's product model (as Oscar's own loading resolves it, so a forked catalogue app keeps
working) is registered with ``OscarProductAdapter``; its images, categories, visibility and
variants keep Genlook in step; Oscar's ``basket_addition`` signal feeds the try-on funnel;
product pages get the try-on button; the dashboard gets a *Virtual try-on* menu.
See docs/oscar.md.
"""
