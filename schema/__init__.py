"""GraphQL only: types, inputs, queries, mutations and loaders per domain; schema.py assembles."""
