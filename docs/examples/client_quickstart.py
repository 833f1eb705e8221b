"""Genlook's recommended flow with GenlookClient alone (no Django needed).

    python client_quickstart.py --api-key gk_... --person me.jpg --garment shirt.png

Against the sandbox that ships with genlook-django:

    python manage.py genlook_sandbox --port 8765 --key gk_sandbox_demo &
    python client_quickstart.py --base-url http://127.0.0.1:8765/tryon/v1 \
        --api-key gk_sandbox_demo --person me.jpg --garment shirt.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

from genlook_django.client import (
    GenlookClient,
    ImageFile,
    InlineProduct,
    ProductNotFoundError,
    ProductReference,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--base-url", default="https://api.genlook.app/tryon/v1")
    parser.add_argument("--person", type=Path, required=True, help="a photo of the shopper")
    parser.add_argument("--garment", type=Path, required=True, help="a product image")
    parser.add_argument("--product-id", default="quickstart-tee")
    parser.add_argument("--shopper-id", default="quickstart-shopper")
    parser.add_argument("--out", type=Path, default=Path("tryon-result.png"))
    args = parser.parse_args()

    client = GenlookClient(args.api_key, base_url=args.base_url)
    credits_before = client.get_credits()
    print(f"credits: {credits_before}")

    # 1. Upload the shopper's photo once; its id serves every later try-on.
    photo = client.upload_image(args.person.read_bytes(), external_user_id=args.shopper_id)
    print(f"uploaded photo: {photo.image_id}")

    # 2. Reference first (the cheapest call); on PRODUCT_NOT_FOUND send the full product.
    try:
        generation = client.create_try_on_sync(
            product=ProductReference(args.product_id),
            person=photo,
            external_user_id=args.shopper_id,
        )
    except ProductNotFoundError:
        print("product unknown to Genlook: sending it inline")
        generation = client.create_try_on_sync(
            product=InlineProduct(
                args.product_id,
                title="Quickstart T-shirt",
                description="A plain cotton T-shirt.",
                images=[ImageFile(args.garment.read_bytes())],
            ),
            person=photo,
            external_user_id=args.shopper_id,
        )

    # 3. /try-on/sync answers 200 when done, 202 while still running: then poll.
    if not generation.is_finished:
        generation = client.wait_for_generation(generation.id)
    print(f"generation {generation.id}: {generation.status}")
    if not generation.is_completed:
        raise SystemExit(f"failed: {generation.error_code} {generation.error_message}")

    # 4. The result URL is temporary: copy the bytes somewhere of your own.
    args.out.write_bytes(client.download(generation.result_image_url))
    print(f"result saved to {args.out}")

    credits_after = client.get_credits()
    print(f"credits: {credits_after} (spent {credits_before - credits_after})")

    # 5. GDPR: erase everything Genlook stored for this shopper.
    client.delete_customer(args.shopper_id)
    print("customer data deleted")


if __name__ == "__main__":
    main()
