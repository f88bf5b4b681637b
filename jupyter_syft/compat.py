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


class TestSettings:
    """``sy.test_settings``: the settings PySyft's own test notebooks read their secrets from
    (``test_settings.get("smtp_token", default=...)``). Here they come from environment
    variables named ``SYFT_TEST_<NAME>`` (``SYFT_TEST_SMTP_TOKEN``); nothing else is read."""

    __test__ = False  # not a pytest test class

    def get(self, name: str, default: object = None) -> object:
        import os

        from .errors import SyftException

        if not isinstance(name, str) or not name.isidentifier() or len(name) > 100:
            raise SyftException(f"test_settings.get takes a setting name, not {name!r:.80}.")

        return os.environ.get(f"SYFT_TEST_{name.upper()}", default)

    def __repr__(self) -> str:
        return "test_settings (environment variables SYFT_TEST_<NAME>)"


test_settings = TestSettings()


# PySyft names whose feature jupyter_syft does not have by design: what to do instead.
PYSYFT_ONLY_NAMES = {
    "sync": (
        "sy.sync is PySyft's copying of code, requests and results between a low-side and a "
        "high-side Datasite, which jupyter_syft does not have: one Datasite holds each private "
        "dataset with its mock, scientists see only the mocks, and owners review and approve "
        "requests on that same Datasite (client.requests). Upload the data with its mock to "
        "one Datasite and let scientists log in to it."
    ),
}


def refuse(name: str) -> None:
    """Raise the SyftException saying why PySyft's ``sy.<name>`` is not here."""
    from .errors import SyftException

    raise SyftException(PYSYFT_ONLY_NAMES[name])
