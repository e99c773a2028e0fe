"""The only tags and filters an agency's notification template may use.

No ``{% load %}``, ``{% include %}``, ``{% extends %}``, ``{% url %}``, ``{% debug %}``,
``{% csrf_token %}`` or ``{% ssi %}``: a template sees its context of plain strings and
nothing else on the server.
"""

from __future__ import annotations

from django.template import Library, defaultfilters, defaulttags

register = Library()

ALLOWED_TAGS = ("if", "for", "with", "firstof", "comment", "spaceless", "now", "templatetag")
for _name in ALLOWED_TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
register.filters.update(defaultfilters.register.filters)
