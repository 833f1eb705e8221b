from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.generic import DetailView, ListView

import genlook_django

from .cart import MAX_QUANTITY, Cart, totals
from .models import Category, Product

RELATED_PRODUCTS = 4


class CatalogView(ListView):
    """The product grid, optionally narrowed to one category with ``?category=``."""

    template_name = "shop/catalog.html"
    context_object_name = "products"
    paginate_by = 12

    def get_queryset(self):
        products = Product.objects.active()
        if self.category:
            products = products.filter(category=self.category)
        return products

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        category = request.GET.get("category", "")
        self.category = category if category in Category.values else ""
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        counts = {
            row["category"]: row["n"]
            for row in Product.objects.active()
            .values("category")
            .annotate(n=Count("pk"))
            .order_by()
        }
        return super().get_context_data(
            **kwargs,
            category=self.category,
            category_label=Category(self.category).label if self.category else "",
            filters=[
                (value, label, counts[value])
                for value, label in Category.choices
                if value in counts
            ],
            total_count=sum(counts.values()),
        )


class ProductDetailView(DetailView):
    template_name = "shop/product_detail.html"
    context_object_name = "product"

    def get_queryset(self):
        return Product.objects.active()

    def get_context_data(self, **kwargs):
        product = self.object
        others = Product.objects.active().exclude(pk=product.pk)
        related = list(others.filter(category=product.category)[:RELATED_PRODUCTS])
        if len(related) < RELATED_PRODUCTS:
            related += others.exclude(category=product.category)[: RELATED_PRODUCTS - len(related)]
        return super().get_context_data(
            **kwargs,
            category_label=Category(product.category).label,
            related=related,
            max_quantity=MAX_QUANTITY,
        )


@require_POST
def cart_add(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(Product.objects.active(), slug=slug)
    try:
        quantity = max(1, min(int(request.POST.get("quantity", 1)), MAX_QUANTITY))
    except ValueError:
        quantity = 1
    Cart(request.session).add(product, quantity)
    # The try-on funnel of the Genlook admin: "added to cart" after trying the product on.
    genlook_django.track_add_to_cart(request, product)
    messages.success(request, _("“%(name)s” was added to your cart.") % {"name": product.name})
    return redirect(product)


@require_POST
def cart_remove(request: HttpRequest, slug: str) -> HttpResponse:
    product = get_object_or_404(Product, slug=slug)
    Cart(request.session).remove(product)
    messages.info(request, _("“%(name)s” was removed from your cart.") % {"name": product.name})
    return redirect("shop:cart")


def cart_detail(request: HttpRequest) -> HttpResponse:
    lines = list(Cart(request.session))
    return render(request, "shop/cart.html", {"lines": lines, "totals": totals(lines)})
