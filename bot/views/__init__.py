"""Everything a user reads: texts and the views that turn results into replies."""
