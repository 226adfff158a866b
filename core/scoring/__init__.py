"""Accountability (R9): the points ledger, semiannual assessments, rewards and penalties."""
