"""Time and ids: the only places that read the system clock or make random values."""
