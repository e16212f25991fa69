"""WHO: affiliate accounts, their users, account security, profile, documents, events log."""
