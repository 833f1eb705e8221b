"""A standalone emulator of the Genlook Try-On API v1, for tests, demos and benchmarks.

It is written from the public contract only and shares no code with the rest of
``genlook_django``: it is the other side of the wire. See ``docs/sandbox.md``.
"""
