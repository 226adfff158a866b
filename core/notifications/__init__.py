"""In-app notifications to accounts, and their live delivery across server processes."""
