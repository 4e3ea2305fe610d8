"""Mirroring other instances' feeds: subscriptions, claims, polls, the store.

Split like the ``reader`` library: :mod:`feeds` fetches, parses and decides
(pure); this package claims work, stores what was decided and schedules the
next poll. Modules, front to back:

- ``subscriptions``: the facade the front ends call (add, list, remove, poll
  one now, poll what is due, run on schedule).
- ``scheduler``: many polls at once for one worker, bounded overall and per host.
- ``poller``: one poll (prepare = the network part, archive walk, finish).
- ``claims``: leases on subscriptions in the database; what is due.
- ``records``: the boundary where remote data comes in (checks, generic entries, batches).
- ``state``: reads of what the mirror holds, and the plan of a batch.
- ``store``: writes a plan, the schedule and failures.
- ``results``: poll results and every wording of them (log, CLI, admin page).
- ``settings``: the ``MIRROR_*`` configuration.

May import :mod:`service.entries`, :mod:`service.store`, :mod:`service.vocab`
and :mod:`feeds`; never :mod:`service.http` or :mod:`service.cli`.
"""
