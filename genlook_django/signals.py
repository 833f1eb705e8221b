"""Signals the host project can listen to.

``product_synced``: Genlook accepted a product, or removed it.
    ``sender`` is the product model; ``synced_product`` the ``SyncedProduct`` row (its
    ``status`` is ``synced`` or ``deleted``); ``action`` is ``"upsert"`` or ``"delete"``.

``product_sync_failed``: an upsert or delete failed.
    ``sender`` is the product model; ``synced_product`` the row (``status`` ``failed``,
    ``last_error`` set); ``action``; ``error`` the exception; ``will_retry`` tells whether a
    Celery retry is scheduled (False: the row stays ``failed`` until the next sync).
    ``synced_product`` is None when the failure has no row to be recorded on (the adapter
    could not give an external id, or another product already holds it).

``tryon_completed``: a try-on's result is stored and can be shown to the shopper.
    ``sender`` is ``TryOn``; ``try_on`` the row (``state`` ``completed``, ``result_file``).

``tryon_failed``: a try-on ended without a result.
    ``sender`` is ``TryOn``; ``try_on`` the row; ``error_code`` its ``error_code`` (e.g.
    ``INSUFFICIENT_CREDITS``, ``SUBMISSION_UNCERTAIN``, or Genlook's own ``errorCode``).

``credits_exhausted``: Genlook answered 402, the account has no credits left. Shoppers
    see "try-on is temporarily unavailable" until a try-on succeeds again (new try-ons
    are refused for ``CREDITS_RETRY_AFTER`` seconds). ``sender`` is ``TryOn``; ``try_on``
    the row that met it; ``error`` the client's ``InsufficientCreditsError``.

Each is sent once per try-on, after the row is saved.

``credits_low``: the credit balance fell below ``LOW_BALANCE_THRESHOLD``. Sent once per
    crossing (again only after the balance has been back at or above the threshold).
    ``sender`` is ``CreditSnapshot``; ``balance`` the balance Genlook reported;
    ``threshold`` the setting.

``webhook_received``: an authenticated webhook delivery was stored (duplicates included),
    before it is processed. ``sender`` is ``WebhookDelivery``; ``delivery`` the row (its
    ``body`` is the raw payload, ``outcome`` ``pending``, ``duplicate`` or ``ignored``).
    Rejected deliveries (bad token or signature, malformed body) send nothing. A
    receiver's exception is logged, never turned into an error answer to the sender.
"""

from django.dispatch import Signal

product_synced = Signal()
product_sync_failed = Signal()
tryon_completed = Signal()
tryon_failed = Signal()
credits_exhausted = Signal()
credits_low = Signal()
webhook_received = Signal()
