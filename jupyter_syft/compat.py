"""Which PySyft API this package implements, and PySyft's ``sy.requires``.

PySyft's tutorials open with ``sy.requires(">=0.9,<1.0.0")``. jupyter_syft implements PySyft
0.9's API under its own version number, so a requirement is checked against the PySyft version
we are compatible with: it passes for a 0.9 tutorial and says clearly why not otherwise.
"""

from __future__ import annotations

PYSYFT_VERSION = "0.9.5"  # the PySyft release whose names and behaviours we follow
MAX_SPEC = 200  # characters of a requirement read


class Version(str):
    """``sy.__version__``: this package's version (it compares and prints as one), whose repr
    also says which PySyft version its API follows."""

    pysyft: str = PYSYFT_VERSION

    def __repr__(self) -> str:
        return f"{str.__repr__(self)} (jupyter_syft; PySyft {self.pysyft} API)"


def requires(requirement: str, silent: bool = False) -> bool:
    """True when PySyft ``requirement`` (e.g. ``">=0.9,<1.0.0"``) admits the PySyft version
    jupyter_syft implements; otherwise a warning saying what to expect, and False.
    A requirement that is not a version specifier raises SyftException."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from .errors import SyftException, SyftWarning, show

    if not isinstance(requirement, str):
        raise SyftException(
            f"sy.requires takes a version specifier string such as '>=0.9,<1.0.0', "
            f"not {type(requirement).__name__}."
        )
    text = requirement.strip()
    if len(text) > MAX_SPEC:
        raise SyftException(
            f"That requirement is longer than {MAX_SPEC} characters: write a version "
            "specifier such as '>=0.9,<1.0.0'."
        )
    try:
        spec = SpecifierSet(text)
    except InvalidSpecifier:
        raise SyftException(
            f"{text[:80]!r} is not a version specifier. Write it as PySyft's tutorials do, "
            "e.g. sy.requires('>=0.9,<1.0.0')."
        ) from None
    if spec.contains(PYSYFT_VERSION, prereleases=True):
        return True
    if not silent:
        show(
            SyftWarning(
                f"This code asks for PySyft {text}; jupyter_syft follows PySyft "
                f"{PYSYFT_VERSION}'s API. Code written for another PySyft version may use "
                "names or behaviours that differ here (README: 'Coming from PySyft')."
            )
        )
    return False
