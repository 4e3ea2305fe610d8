"""The HTTP front end: the JSON API (``api/``), the site (``web/``), the feeds
and the one error handler.

Views are thin: they check input at the boundary (marshmallow schemas) and call
the service packages (:mod:`service.entries`, :mod:`service.mirror`,
:mod:`service.questionnaire`, :mod:`service.accounts`). Nothing below this
package imports it.
"""
