"""Where rooms are made durable and fanned out: the embedded (SQLite) and Redis backends."""
