"""The ``cartesia-studio`` command: the studio, and headless verbs on the same core.

:func:`main` parses the command line and runs one verb; each verb lives in a module of
its own (:mod:`studio.cli.main` has the list).
"""

from studio.cli.main import main

__all__ = ["main"]
