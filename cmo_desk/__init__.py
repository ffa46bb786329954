"""CMO Desk: code Context-Mechanism-Outcome configurations for realist reviews."""

__version__ = "0.1.0"
