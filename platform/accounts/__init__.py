"""People: one identity per person across every agency (django-allauth), memberships and roles."""
