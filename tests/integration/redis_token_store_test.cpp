// The Redis token store, one process (placeholder).
