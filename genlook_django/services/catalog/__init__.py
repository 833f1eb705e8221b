"""Product sync: the plan for one product, pushing it to Genlook, and the whole catalog."""
