"""The only user of SQLAlchemy and Alembic: the project file, its change log and its projection."""
