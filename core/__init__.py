"""The platform layer (the design card's `platform/`, named `core`: not to shadow the stdlib)."""
