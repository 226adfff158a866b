"""GraphQL for the supervisor roster."""
