"""Merging coders' change logs, and agreement between coders. Pure: no database, no Qt."""
