"""GraphQL for agencies, cases, oversight and notifications."""
