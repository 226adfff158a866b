"""Evidence files for cases and assistance reports (R4.4: stored without what names their maker)."""
