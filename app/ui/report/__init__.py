"""Qt side of the clinic report: PDF layout, key-image rendering, print/export actions."""
