"""Built-in holiday files (节假日安排 holiday arrangements), one YAML per year."""
