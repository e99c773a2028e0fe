"""Vietnamese for third-party apps that ship none (django-allauth).

Listed in SHARED_APPS before ``allauth`` so this catalog is the one Django finds.
"""
