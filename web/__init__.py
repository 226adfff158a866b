"""The web layer: HTTP middleware, the file endpoints and serving, over the platform."""
