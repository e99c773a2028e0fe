"""Vietnamese for third-party apps that ship none (django-allauth).

Listed in SHARED_APPS before ``django.contrib.*`` and ``allauth``: where several
catalogs translate one msgid, the earliest app wins, and we want one wording.
"""
