"""Teaching mode, Qt-free: case format and library, scoring of a trainee's read against the
reference read, attempt history (SQLite) and case authoring. See docs/teaching.md."""
