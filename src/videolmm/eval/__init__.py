"""Evaluation: closed-set scoring of the synthetic benchmark (benchmark metrics land with issue 7)."""
