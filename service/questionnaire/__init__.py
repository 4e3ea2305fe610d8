"""The Association's questionnaires: a text (or office document) becomes a
practice note and event summaries.

Parsing is pure (no database); :mod:`service.questionnaire.importer` stores the
result through :mod:`service.entries`.
"""
