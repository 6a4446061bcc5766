"""ducha application shell: settings, clock, database, CLI."""
