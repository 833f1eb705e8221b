"""The generators of the reliability campaigns' inputs (R3 hostile uploads, R4 hostile
webhook deliveries), seeded, one function per kind of input, grouped by family."""
