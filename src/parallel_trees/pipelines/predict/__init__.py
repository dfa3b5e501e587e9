"""Predict pipeline: a trained model applied to new rows."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
