"""Scheduled work run by PTB's JobQueue."""
