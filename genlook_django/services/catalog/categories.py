"""The garment categories Genlook knows, and how a shop's own category words map to them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


class GarmentCategory(models.TextChoices):
    """The garment types Genlook knows (the AI also infers it from title and images)."""

    TOPS = "tops", "Tops"
    BOTTOMS = "bottoms", "Bottoms"
    DRESSES = "dresses", "Dresses"
    OUTERWEAR = "outerwear", "Outerwear"
    EYEWEAR = "eyewear", "Eyewear"
    CAPS = "caps", "Caps and hats"


_SYNONYMS: dict[str, list[str]] = {
    GarmentCategory.TOPS: [
        "top",
        "shirt",
        "t-shirt",
        "tshirt",
        "tee",
        "blouse",
        "sweater",
        "jumper",
        "pullover",
        "hoodie",
        "sweatshirt",
        "polo",
        "knitwear",
        "cardigan",
        "tank",
        "vest-top",
        "camisole",
    ],
    GarmentCategory.BOTTOMS: [
        "bottom",
        "trouser",
        "pant",
        "jean",
        "short",
        "skirt",
        "legging",
        "chino",
        "jogger",
    ],
    GarmentCategory.DRESSES: ["dress", "gown", "frock"],
    GarmentCategory.OUTERWEAR: [
        "outerwear",
        "jacket",
        "coat",
        "parka",
        "blazer",
        "anorak",
        "raincoat",
        "gilet",
    ],
    GarmentCategory.EYEWEAR: ["eyewear", "glass", "sunglass", "spectacle", "goggle"],
    GarmentCategory.CAPS: ["cap", "hat", "beanie", "headwear", "beret"],
}
DEFAULT_CATEGORY_MAP: dict[str, str] = {
    word: str(category) for category, words in _SYNONYMS.items() for word in words
}


def normalise_category(value: Any, extra: Mapping[str, str] | None = None) -> str | None:
    """A shop's category value ("T-Shirts", "Sunglasses", "hats") to a Genlook category.

    Case, ``_``/``-``/space and plural endings do not matter; ``extra`` (an adapter's
    ``category_map``) is tried first, then the ``GarmentCategory`` values, then the built-in
    words (``DEFAULT_CATEGORY_MAP``). ``None`` when nothing matches.

    >>> normalise_category("T-Shirts")
    'tops'
    >>> normalise_category("Accessories", {"accessories": "eyewear"})
    'eyewear'
    >>> normalise_category("Socks") is None
    True
    """
    if value is None:
        return None
    text = str(value).strip().lower().replace("_", "-")
    if not text:
        return None
    candidates = [text, text.replace(" ", "-"), text.replace("-", "")]
    candidates += [c[:-1] for c in candidates if c.endswith("s")]
    candidates += [c[:-2] for c in candidates if c.endswith("es")]
    for mapping in (
        {k.lower(): v for k, v in (extra or {}).items()},
        {c.value: c.value for c in GarmentCategory},
        DEFAULT_CATEGORY_MAP,
    ):
        for candidate in candidates:
            if candidate in mapping:
                return mapping[candidate]
    return None
