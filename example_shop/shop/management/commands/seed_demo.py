"""Fill the example shop with its demo products (and, on request, an admin account).

Idempotent: a product whose slug exists is left as it is (only a missing image is restored),
so running it again after editing products in the admin loses nothing.
"""

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand

from example_shop.shop.models import Category, Product
from genlook_django import disable_auto_sync

IMAGES_DIR = Path(__file__).resolve().parents[2] / "demo_images"

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin"


@dataclass(frozen=True)
class DemoProduct:
    slug: str
    name: str
    category: str
    price: str
    image: str
    description: str


# In catalogue order (newest first).
DEMO_PRODUCTS = [
    DemoProduct(
        "sage-wrap-dress",
        "Sage Wrap Dress",
        Category.DRESSES,
        "129.00",
        "dress.png",
        "A sleeveless V-neck dress in fluid cotton-viscose with a tiny ivory dot. The self-tie "
        "belt sets the waist and the skirt falls in soft A-line folds to just below the knee.",
    ),
    DemoProduct(
        "everyday-organic-tee",
        "Everyday Organic Tee",
        Category.TOPS,
        "35.00",
        "tee.png",
        "A mid-weight organic cotton jersey tee with a ribbed crew neck and a relaxed fit. "
        "Garment-dyed in terracotta, so every piece has its own slightly lived-in tone.",
    ),
    DemoProduct(
        "ochre-chore-jacket",
        "Ochre Chore Jacket",
        Category.OUTERWEAR,
        "149.00",
        "jacket.png",
        "A workwear classic in sturdy cotton twill: point collar, horn-effect buttons, one "
        "chest and two hip patch pockets. Cut roomy enough to layer over a knit.",
    ),
    DemoProduct(
        "pleated-wide-leg-trousers",
        "Pleated Wide-Leg Trousers",
        Category.BOTTOMS,
        "98.00",
        "trousers.png",
        "High-rise trousers in sand cotton twill with single front pleats, slanted pockets "
        "and a wide, straight leg that breaks cleanly over a sneaker.",
    ),
    DemoProduct(
        "breton-stripe-top",
        "Breton Stripe Top",
        Category.TOPS,
        "58.00",
        "breton.png",
        "The boat-neck marinière in heavy cotton jersey: navy stripes on ecru, plain cuffs "
        "and hem, and three buttons on the shoulder.",
    ),
    DemoProduct(
        "havana-sunglasses",
        "Havana Sunglasses",
        Category.EYEWEAR,
        "120.00",
        "sunglasses.png",
        "Hand-polished acetate frames in warm havana tortoiseshell, with a keyhole bridge and "
        "grey-green lenses that block 100% of UVA and UVB.",
    ),
    DemoProduct(
        "slate-loopback-hoodie",
        "Slate Loopback Hoodie",
        Category.OUTERWEAR,
        "89.00",
        "hoodie.png",
        "Brushed-back loopback cotton in heathered slate blue, with a lined hood, flat cotton "
        "drawcords, a kangaroo pocket and deep rib cuffs.",
    ),
    DemoProduct(
        "forest-twill-cap",
        "Forest Twill Cap",
        Category.HATS,
        "32.00",
        "cap.png",
        "A six-panel cap in washed cotton twill with tonal eyelets, a softly curved brim and "
        "an adjustable back strap with a metal slider.",
    ),
]


class Command(BaseCommand):
    help = "Create the demo products (idempotent). --with-admin also creates admin/admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--with-admin",
            action="store_true",
            help=f"Also create a superuser {ADMIN_USERNAME!r} with password {ADMIN_PASSWORD!r}.",
        )

    def handle(self, *args, with_admin: bool = False, **options) -> None:
        # Seeding runs before the server (and the sandbox inside it) is up: products reach
        # Genlook on their first try-on, their next save, or `manage.py genlook_sync`.
        with disable_auto_sync():
            created, restored = self._seed_products()
        existing = len(DEMO_PRODUCTS) - created
        self.stdout.write(
            self.style.SUCCESS(f"Demo products: {created} created, {existing} already there.")
        )
        if restored:
            self.stdout.write(f"Restored the missing image of {restored} product(s).")
        if with_admin:
            self._create_admin()
        self._show_control_token()

    def _seed_products(self) -> tuple[int, int]:
        created = restored = 0
        # Created last first, so that the newest-first catalogue lists them in the order above.
        for spec in reversed(DEMO_PRODUCTS):
            product = Product.objects.filter(slug=spec.slug).first()
            if product is None:
                product = Product(
                    slug=spec.slug,
                    name=spec.name,
                    category=spec.category,
                    price=Decimal(spec.price),
                    description=spec.description,
                )
                self._attach_image(product, spec, save=False)
                product.save()
                created += 1
            elif not product.image or not product.image.storage.exists(product.image.name):
                self._attach_image(product, spec, save=True)
                restored += 1
        return created, restored

    def _attach_image(self, product: Product, spec: DemoProduct, *, save: bool) -> None:
        with (IMAGES_DIR / spec.image).open("rb") as fh:
            product.image.save(spec.image, File(fh), save=save)

    def _show_control_token(self) -> None:
        """How to reach the mounted sandbox's control endpoints (the token is in var/)."""
        if not apps.is_installed("genlook_django.sandbox"):
            return
        from genlook_django.sandbox.conf import configured_control_token
        from genlook_django.sandbox.control import control_help

        token = configured_control_token()
        if token is None:  # random per process: this one's would not be the server's
            return
        genlook = getattr(settings, "GENLOOK", {})
        base_url = str(genlook.get("BASE_URL", "")).rstrip("/")
        if genlook.get("API") == "classic":  # the control endpoints sit under the v1 root
            base_url += "/tryon/v1"
        self.stdout.write("Genlook sandbox control endpoints (reset, credits, faults, stats):")
        for line in control_help(base_url, token, genlook.get("API_KEY")):
            self.stdout.write(line)

    def _create_admin(self) -> None:
        user_model = get_user_model()
        if user_model.objects.filter(username=ADMIN_USERNAME).exists():
            self.stdout.write(f"Superuser {ADMIN_USERNAME!r} already exists; left unchanged.")
            return
        user_model.objects.create_superuser(ADMIN_USERNAME, "admin@example.com", ADMIN_PASSWORD)
        self.stdout.write(
            self.style.WARNING(
                f"Superuser created: username {ADMIN_USERNAME!r}, password {ADMIN_PASSWORD!r} "
                "(demo only: never on a public server)."
            )
        )
