"""Isthmus: lumbar spine imaging review for pars defects, spondylolisthesis and marrow edema.

This module stays light: it imports nothing heavy (no Qt, no SimpleITK, no pydicom).
"""

__version__ = "0.1.0"
