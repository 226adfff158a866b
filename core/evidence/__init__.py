"""Evidence as it is read (R4.4): an attachment, for the reader of the case or assistance
report it belongs to."""
