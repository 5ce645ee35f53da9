"""Figures, the dashboard, exports and the IATI file: the pool read as a whole."""
