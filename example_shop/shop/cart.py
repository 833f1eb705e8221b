"""A session cart: just enough shop for the product page to have a real "Add to cart"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.sessions.backends.base import SessionBase

from .models import Product

SESSION_KEY = "shop_cart"
MAX_QUANTITY = 10


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def subtotal(self) -> Decimal:
        return self.product.price * self.quantity


class Cart:
    """Quantities by product id, kept in the session as ``{"<pk>": quantity}``."""

    def __init__(self, session: SessionBase) -> None:
        self.session = session
        self.quantities: dict[str, int] = dict(session.get(SESSION_KEY, {}))

    def add(self, product: Product, quantity: int = 1) -> int:
        """Add ``quantity`` of ``product``; returns the new quantity (capped)."""
        key = str(product.pk)
        self.quantities[key] = min(self.quantities.get(key, 0) + quantity, MAX_QUANTITY)
        self._save()
        return self.quantities[key]

    def remove(self, product: Product) -> None:
        if self.quantities.pop(str(product.pk), None) is not None:
            self._save()

    def __len__(self) -> int:
        return sum(self.quantities.values())

    def __iter__(self) -> Iterator[CartLine]:
        """The lines of products still on sale, in the order they were added."""
        products = Product.objects.active().in_bulk([int(pk) for pk in self.quantities])
        for pk, quantity in self.quantities.items():
            product = products.get(int(pk))
            if product is not None:
                yield CartLine(product, quantity)

    def _save(self) -> None:
        self.session[SESSION_KEY] = self.quantities
        self.session.modified = True


def totals(lines: list[CartLine]) -> dict[str, Decimal]:
    """The amount due per currency (a real shop would have only one)."""
    amounts: dict[str, Decimal] = {}
    for line in lines:
        currency = line.product.currency
        amounts[currency] = amounts.get(currency, Decimal(0)) + line.subtotal
    return amounts
