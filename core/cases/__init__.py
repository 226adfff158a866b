"""Supervision cases: reports, suggestions, inquiries, document requests and supervision
records; their handling by offices and replies by agencies."""
