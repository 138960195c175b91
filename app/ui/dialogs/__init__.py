"""One dialog per module, each with an ``ask()``-style classmethod."""
