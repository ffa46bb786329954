"""The coding desk: the only part of CMO Desk that uses Qt."""
