"""Accounts, sign-in sessions, refresh tokens and API keys."""
