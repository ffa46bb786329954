"""Pure records, enums, ids and errors. No I/O, no Qt, no SQL."""
