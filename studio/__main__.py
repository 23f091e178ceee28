"""``python -m studio`` is the same as the ``cartesia-studio`` command."""

from studio.cli import main

# Guarded: a child process the export starts (multiprocessing, "spawn") imports this
# module again, and must not run the command a second time.
if __name__ == "__main__":
    raise SystemExit(main())
