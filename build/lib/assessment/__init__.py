"""Readiness toolkit for the Salesforce - Account Engagement (Pardot) connector."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pardot-readiness")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+local"
