"""The public site: the landing page and the provider console (public schema)."""
