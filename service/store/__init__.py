"""Storage: the SQLAlchemy models, the database set-up and the migrations.

The lowest layer of ``service``: it imports nothing of the service but
:mod:`service.vocab` (the enums that columns hold) and :mod:`service.errors`.
"""
