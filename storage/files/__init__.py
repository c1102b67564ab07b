"""Files: the report parser, importer, export, plan template and demo data."""
