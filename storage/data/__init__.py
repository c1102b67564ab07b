"""Data access: models, the engine factory, migrations and the audit trail."""
