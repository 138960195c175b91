"""The only package that imports PySide6: widgets, windows and Qt adapters."""
