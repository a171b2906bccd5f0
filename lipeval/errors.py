"""The errors lipeval raises on bad input; each message names the file, field or flag at fault."""


class LipevalError(Exception):
    """Base class: a user-facing error with a message that says what was expected."""


class DataMissing(LipevalError):
    """The data a task needs is not on disk. The task is recorded as `skipped`, never downloaded."""


class DataError(LipevalError):
    """The data is on disk but malformed (bad JSON/CSV, unreadable image, mismatched lists)."""


class ConfigError(LipevalError):
    """A task config, model spec or command-line value is invalid."""
