"""Staff pages (placeholder until the admin area lands)."""
