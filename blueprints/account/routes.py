"""Customer-facing account pages (added by the shop: "My programs")."""
