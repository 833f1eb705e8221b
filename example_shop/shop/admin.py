from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Product
from .templatetags.shop_tags import money

admin.site.site_header = _("Lumen Atelier administration")
admin.site.site_title = _("Lumen Atelier admin")
admin.site.index_title = _("Shop and try-on")


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "name", "category", "display_price", "is_active", "updated_at")
    list_display_links = ("thumbnail", "name")
    list_editable = ("is_active",)
    list_filter = ("is_active", "category", "created_at")
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("image_preview", "created_at", "updated_at")
    list_per_page = 50
    actions = ("publish", "unpublish")
    fieldsets = (
        (None, {"fields": ("name", "slug", "category", "description")}),
        (_("Price"), {"fields": (("price", "currency"),)}),
        (_("Image"), {"fields": ("image", "image_preview")}),
        (_("Publication"), {"fields": ("is_active", ("created_at", "updated_at"))}),
    )

    class Media:
        css = {"all": ("shop/admin.css",)}

    @admin.display(description=_("Image"))
    def thumbnail(self, product: Product) -> str:
        if not product.image:
            return format_html('<span class="{}"></span>', "shop-thumb shop-thumb--empty")
        return format_html('<img class="shop-thumb" src="{}" alt="">', product.image.url)

    @admin.display(description=_("Preview"))
    def image_preview(self, product: Product) -> str:
        if not product.image:
            return "—"
        return format_html('<img class="shop-preview" src="{}" alt="">', product.image.url)

    @admin.display(description=_("Price"), ordering="price")
    def display_price(self, product: Product) -> str:
        return money(product.price, product.currency)

    # Saved one by one rather than with queryset.update(), so that post_save receivers (such
    # as a catalogue sync to Genlook) hear about every change.
    @admin.action(description=_("Publish selected products"))
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description=_("Hide selected products"))
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_active(request, queryset, False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Product], active: bool) -> None:
        changed = 0
        for product in queryset.exclude(is_active=active):
            product.is_active = active
            product.save(update_fields=["is_active", "updated_at"])
            changed += 1
        if active:
            text = ngettext("%d product published.", "%d products published.", changed)
        else:
            text = ngettext("%d product hidden.", "%d products hidden.", changed)
        self.message_user(request, text % changed, messages.SUCCESS)
