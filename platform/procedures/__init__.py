"""An agency's adopted procedures and their configuration (agency schema)."""
