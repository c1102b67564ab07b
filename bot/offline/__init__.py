"""An offline Bot API for the console, tests and benchmarks (never used by ``monev run``)."""
