"""Pure numpy geometry: coordinate frames (frames.py) and measurements (measure.py). No Qt."""
