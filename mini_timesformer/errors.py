"""The package's own "bad input" errors: what the command line prints as one line.

``mini-timesformer`` turns a ``UserError`` (and only that) into ``… error: <message>``
with exit status 2; anything else is a bug and keeps its traceback. ``UserError``
subclasses ``ValueError`` and the path errors subclass ``FileNotFoundError`` /
``NotADirectoryError`` too, so ``except ValueError`` / ``except FileNotFoundError``
still catch them.
"""


class UserError(ValueError):
    """Bad input (a flag, a spec, a config field, a file): the message says what was expected."""


class MissingPathError(UserError, FileNotFoundError):
    """A file or folder the user named does not exist (or is not the expected kind)."""


class NotAFolderError(UserError, NotADirectoryError):
    """A folder does not have the layout the command expects."""


__all__ = ["UserError", "MissingPathError", "NotAFolderError"]
