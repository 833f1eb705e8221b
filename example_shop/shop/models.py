"""The merchant's own catalogue: nothing here knows about Genlook."""

from django.core.validators import MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    TOPS = "tops", _("Tops")
    BOTTOMS = "bottoms", _("Bottoms")
    DRESSES = "dresses", _("Dresses")
    OUTERWEAR = "outerwear", _("Outerwear")
    EYEWEAR = "eyewear", _("Eyewear")
    HATS = "hats", _("Hats")


class ProductQuerySet(models.QuerySet):
    def active(self) -> "ProductQuerySet":
        """What shoppers may see."""
        return self.filter(is_active=True)


class Product(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    price = models.DecimalField(
        _("price"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)]
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="EUR", help_text=_("ISO 4217 code, e.g. EUR.")
    )
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive products are hidden from the shop.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("shop:product", kwargs={"slug": self.slug})
