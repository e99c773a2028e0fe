"""The bottom layer: plain Django helpers every app may use, importing no app of ours.

Request input checks (``inputs``), client rate limits (``ratelimit``), fault injection for
crash tests (``failpoints``) and the read-only model admin (``admin``)."""
