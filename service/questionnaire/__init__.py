"""The Association's questionnaires: a text (or office document) becomes a
practice note and event summaries.

Reading is pure (no Flask, no database) and goes one way:
``text`` (clean lines, paragraphs, sentences, Markdown) <- ``questions``
(city heading, questions and answers, year), ``area`` (area of activity),
``grammar`` (event nouns, the nominative) <- ``events`` (events in the
answers) <- ``parse`` (:func:`~service.questionnaire.parse.parse_questionnaire`,
the records). ``topics`` guesses topic codes from text; ``importer`` stores the
result through :mod:`service.entries`.

May import :mod:`service.entries`, :mod:`service.store`, :mod:`service.vocab`,
:mod:`service.language` and :mod:`service.errors`; never :mod:`service.http`
or :mod:`service.cli`.
"""
