"""Webhooks: receiving Genlook's notices, authenticating them, and acting on them."""
