"""The root of optotrace's exception family. Each area defines its own subclasses next to its code."""


class OptotraceError(Exception):
    """Base class of every error optotrace raises on purpose. Messages say what was wrong and what to do."""
