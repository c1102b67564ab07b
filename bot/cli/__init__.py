"""The ``monev`` command."""
