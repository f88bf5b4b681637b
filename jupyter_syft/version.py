"""The package's version, for modules that report it (the Datasite's metadata): they import it
from here, never from the ``jupyter_syft`` package, which sits on top of every module."""

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never built
    __version__ = "0.0.0.dev0"

__all__ = ["__version__"]
