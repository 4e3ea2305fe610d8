"""Practice notes and event summaries: the service layer every front end calls.

``service`` (create, edit, delete, list), ``access`` (who may read or write
what), ``changelog`` (the append-only log feeds are built from),
``feedlog`` (RFC 5005 pages of that log), ``search`` (Russian full text) and
``rendering`` (Markdown and sanitized HTML). May import :mod:`service.store`,
:mod:`service.vocab`, :mod:`service.fields`, :mod:`service.errors` and
:mod:`feeds` (pure helpers); never :mod:`service.http` or :mod:`service.cli`.
"""
