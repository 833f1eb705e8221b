"""Try-ons: the shopper's photo, the submission to Genlook, and the result."""
