"""Activities the offices organise (R3.5, R5.3, R7.4) and training (R8.1)."""
