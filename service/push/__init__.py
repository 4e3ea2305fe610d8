"""Push between instances (W3C WebSub).

Each instance is the hub of its own feeds (:mod:`service.push.hub` keeps the
subscribers, :mod:`service.push.delivery` verifies their intent and delivers
every change from the change log, in the worker) and a subscriber of the hubs
its subscriptions advertise (:mod:`service.push.subscriber`). The protocol's
framework-free parts are in :mod:`feeds.websub` and :mod:`feeds.notify`. May
import :mod:`service.mirror`, :mod:`service.entries`, :mod:`service.store`
and :mod:`feeds`; never :mod:`service.http` or :mod:`service.cli` (the HTTP
layer hands the hub a renderer of its feeds through ``app.extensions``).
"""
