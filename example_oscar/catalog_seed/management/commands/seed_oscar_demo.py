"""Fill the Oscar example with a small clothing catalog (and, on request, an admin).

Standalone products, a parent with child variants (sizes, with empty titles as Oscar's
dashboard leaves them), HTML descriptions, a category tree, product images, stock and
prices. Idempotent: a product whose UPC exists is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand
from django.db import transaction
from oscar.apps.catalogue.categories import create_from_breadcrumbs
from oscar.core.loading import get_model

from genlook_django import disable_auto_sync

Product = get_model("catalogue", "Product")
ProductClass = get_model("catalogue", "ProductClass")
ProductCategory = get_model("catalogue", "ProductCategory")
ProductImage = get_model("catalogue", "ProductImage")
Partner = get_model("partner", "Partner")
StockRecord = get_model("partner", "StockRecord")

IMAGES_DIR = Path(__file__).resolve().parents[4] / "example_shop" / "shop" / "demo_images"
ADMIN_EMAIL = "admin@example.com"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"


@dataclass(frozen=True)
class DemoProduct:
    upc: str
    title: str
    category: str  # Oscar breadcrumbs, "Parent > Child"
    price: str
    image: str
    description: str
    sizes: tuple[str, ...] = ()  # a parent product with one child per size


DEMO_PRODUCTS = [
    DemoProduct(
        "GL-DRESS-1",
        "Sage Wrap Dress",
        "Clothing > Dresses",
        "129.00",
        "dress.png",
        "<p>A sleeveless <strong>V-neck</strong> dress in fluid cotton-viscose &amp; a tiny "
        "ivory dot.</p>",
    ),
    DemoProduct(
        "GL-JACKET-1",
        "Ochre Chore Jacket",
        "Clothing > Outerwear > Jackets",
        "149.00",
        "jacket.png",
        "<p>A workwear classic in sturdy cotton twill.</p><ul><li>Point collar</li>"
        "<li>Three patch pockets</li></ul>",
    ),
    DemoProduct(
        "GL-SUN-1",
        "Round Tortoise Sunglasses",
        "Accessories > Sunglasses",
        "79.00",
        "sunglasses.png",
        "<p>Round acetate frames with <em>green</em> lenses.</p>",
    ),
    DemoProduct(
        "GL-TEE-1",
        "Everyday Organic Tee",
        "Clothing > Shirts & tops > T-shirts",
        "35.00",
        "tee.png",
        "<p>A mid-weight organic cotton jersey tee, garment-dyed in terracotta.</p>",
        sizes=("S", "M", "L"),
    ),
]


class Command(BaseCommand):
    help = "Seed the Oscar example with its demo catalog (and --with-admin: admin / admin)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--with-admin", action="store_true", help="create admin / admin")

    def handle(self, *args, with_admin: bool = False, **options) -> None:
        # Seeding runs before the server (and the sandbox inside it) is up: products reach
        # Genlook on their first try-on, their next save, or `manage.py genlook_sync`.
        with transaction.atomic(), disable_auto_sync():
            product_class, _ = ProductClass.objects.get_or_create(
                name="Clothing", defaults={"requires_shipping": True, "track_stock": True}
            )
            partner, _ = Partner.objects.get_or_create(name="Genlook demo warehouse")
            created = [
                demo.upc for demo in DEMO_PRODUCTS if self.seed(demo, product_class, partner)
            ]
        self.stdout.write(f"Products created: {len(created)} ({', '.join(created) or 'none'}).")
        if with_admin:
            self.make_admin()

    def seed(self, demo: DemoProduct, product_class, partner) -> bool:
        if Product.objects.filter(upc=demo.upc).exists():
            return False
        structure = Product.PARENT if demo.sizes else Product.STANDALONE
        product = Product.objects.create(
            upc=demo.upc,
            title=demo.title,
            structure=structure,
            product_class=product_class,
            description=demo.description,
            is_public=True,
        )
        ProductCategory.objects.create(
            product=product, category=create_from_breadcrumbs(demo.category)
        )
        with (IMAGES_DIR / demo.image).open("rb") as image:
            ProductImage.objects.create(
                product=product, original=File(image, name=demo.image), display_order=0
            )
        if not demo.sizes:
            self.stock(product, partner, demo.upc, demo.price)
        for size in demo.sizes:
            # Oscar's dashboard leaves a child's title empty: it shows its parent's.
            child = Product.objects.create(
                upc=f"{demo.upc}-{size}", structure=Product.CHILD, parent=product, title=""
            )
            self.stock(child, partner, child.upc, demo.price)
        return True

    def stock(self, product, partner, sku: str, price: str) -> None:
        StockRecord.objects.create(
            product=product,
            partner=partner,
            partner_sku=sku,
            price=Decimal(price),
            num_in_stock=100,
        )

    def make_admin(self) -> None:
        User = get_user_model()
        if not User.objects.filter(username=ADMIN_USERNAME).exists():
            User.objects.create_superuser(ADMIN_USERNAME, ADMIN_EMAIL, ADMIN_PASSWORD)
        self.stdout.write(
            f"Admin: {ADMIN_USERNAME} / {ADMIN_PASSWORD} (Oscar's sign-in: {ADMIN_EMAIL})"
        )
