"""Mirroring other instances' feeds: subscriptions, claims, polls, the store.

Split like the ``reader`` library: :mod:`feeds` fetches, parses and decides
(pure); this package claims work, stores what was decided and schedules the
next poll. :mod:`service.mirror.subscriptions` is the facade the front ends
call. May import :mod:`service.entries`, :mod:`service.store` and
:mod:`feeds`; never :mod:`service.http` or :mod:`service.cli`.
"""
