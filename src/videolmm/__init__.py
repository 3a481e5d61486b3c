"""videolmm."""
