"""Scheduled MLOps flows for network intrusion detection on CICIDS2017."""

__version__ = "0.1.0"
