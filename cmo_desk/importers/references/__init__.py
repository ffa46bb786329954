"""Reference-manager exports -> Study records: RIS, BibTeX/BibLaTeX, PubMed MEDLINE (.nbib),
EndNote XML and CSL-JSON.

Damaged records are skipped with a warning naming the record; a file that holds no readable
reference at all raises ImportFailed. Third-party parsers raise all sorts of exceptions on damaged
input, so each record is converted inside its own guard.
"""

from cmo_desk.importers.references.bibtex import split_bibtex_names
from cmo_desk.importers.references.labels import assign_labels, make_label, surname
from cmo_desk.importers.references.medline import medline_records
from cmo_desk.importers.references.reading import FORMAT_NAMES, FORMATS, ParsedReferences, detect_format, parse_references
from cmo_desk.importers.references.studies import FIELD_LIMITS

__all__ = [
    "FIELD_LIMITS",
    "FORMATS",
    "FORMAT_NAMES",
    "ParsedReferences",
    "assign_labels",
    "detect_format",
    "make_label",
    "medline_records",
    "parse_references",
    "split_bibtex_names",
    "surname",
]
