// The Redis token store, many processes (placeholder).
