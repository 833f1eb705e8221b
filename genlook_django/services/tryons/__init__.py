"""Try-ons: the shopper's photo, the submission to Genlook, and the result.

- ``start``: the web request (consent, availability, quotas, photo) and the merchant's retry;
  both enqueue ``genlook.submit_try_on`` on commit.
- ``submission``: the task side, one machine for a shopper's ``TryOn`` and a batch's
  ``BatchItem`` (claim, upload once, mark sent, create reference-first, classify, record).
- ``records``: the ``Tracked`` adapters that let one machine and one ingestion serve both.
- ``results``: ``ingest``, ``poll_once`` and ``fail`` for both; the status view's checks.
- ``products`` (the try-on call), ``uploads`` (photos at Genlook), ``photos`` and
  ``pixels`` (the photo pipeline), ``quotas``, ``shoppers``, ``status_wait``, ``reconcile``.

No names are re-exported here: import the module that holds them.
"""
