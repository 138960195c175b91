"""The local study database (Qt-free): a versioned SQLite index of imported studies."""
