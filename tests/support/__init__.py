"""What the tests share: helpers, and the fixtures several test folders use.

The modules with shared fixtures (``catalog``, ``storefront``, ``browser``, ``concurrency``)
are pytest plugins, registered once in ``tests/conftest.py``; a folder's ``conftest.py``
declares only the fixtures of that folder. Tests import helpers from here, never from a
conftest.
"""
