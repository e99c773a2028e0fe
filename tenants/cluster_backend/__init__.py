"""Database backend: django-tenants' schema switching, plus the agency's cluster (``base``)."""
