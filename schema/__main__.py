"""`python -m schema` prints the SDL (`make schema` writes it to schema.graphql)."""

from __future__ import annotations

from web.graphql import build_schema

if __name__ == "__main__":
    print(build_schema(production=False).as_str())
