"""The national procedure catalog (public schema): procedures, their versions, import."""
