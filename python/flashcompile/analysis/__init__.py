"""Backend analysis of compiled code (docs/analysis.md)."""
from .report import AnalysisReport, analyze

__all__ = ["analyze", "AnalysisReport"]
