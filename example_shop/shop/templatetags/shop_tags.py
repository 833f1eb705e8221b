from decimal import Decimal

from django import template
from django.utils.formats import number_format

from ..cart import Cart
from ..models import Category

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


@register.filter
def money(amount: Decimal | None, currency: str = "EUR") -> str:
    """``{{ product.price|money:product.currency }}`` → "€48.00" (localised digits)."""
    if amount is None:
        return ""
    digits = number_format(amount, decimal_pos=0 if currency == "JPY" else 2)
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{digits}" if symbol else f"{digits} {currency}"


@register.simple_tag(takes_context=True)
def cart_count(context: template.Context) -> int:
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return 0
    return len(Cart(request.session))


@register.simple_tag
def shop_categories() -> list[tuple[str, str]]:
    return list(Category.choices)
