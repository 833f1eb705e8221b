"""Genlook's classic API (``POST /v1/try-on`` with image URLs, ``Authorization: Bearer``,
nested ``{"error": {...}}`` answers), served by the same sandbox engine as v1: one account,
one balance, one rate limit, two dialects. Written from the classic documentation page."""
