"""The command line (``flask --app wsgi <command>``): thin click wrappers over
the service packages; a :class:`service.errors.ServiceError` becomes a Russian
message and exit status 1. Nothing below this package imports it.
"""
