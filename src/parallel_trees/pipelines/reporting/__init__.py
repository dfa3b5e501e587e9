"""Reporting pipeline: charts of a run, previewed by kedro-viz."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
