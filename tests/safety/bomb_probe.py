"""Feeds zip and XML bombs to the importers under a 1.5 GB address-space limit; prints
'case|outcome|seconds' lines and the peak resident memory in MiB (run by test_hostile_files)."""

import io
import resource
import time
import zipfile

resource.setrlimit(resource.RLIMIT_AS, (1536 * 1024 * 1024, resource.RLIM_INFINITY))

from cmo_desk.domain.errors import ImportFailed  # noqa: E402
from cmo_desk.importers import fulltext, references  # noqa: E402

MiB = 1024 * 1024
W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_with(document_xml: bytes = b"", spaces_mib: int = 0, claimed_size: int | None = None):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(document_xml or b"<w:document " + W + b"><w:body><w:p><w:r><w:t>")
            chunk = b" " * MiB
            for _ in range(spaces_mib):
                member.write(chunk)
            if not document_xml:
                member.write(b"</w:t></w:r></w:p></w:body></w:document>")
        if claimed_size is not None:
            z.filelist[-1].file_size = claimed_size  # the central directory lies
    return buf.getvalue()


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lolololololol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;")
                                                * 10) for i in range(1, 10))
          + b"]><w:document " + W + b"><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body>"
          b"</w:document>")
EXTERNAL = (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<w:document " + W + b"><w:body><w:p><w:r><w:t>&x;</w:t></w:r></w:p></w:body>"
            b"</w:document>")

cases = {
    "zip bomb": lambda: docx_with(spaces_mib=210),
    "ratio bomb": lambda: docx_with(spaces_mib=20),
    "lying header": lambda: docx_with(spaces_mib=60, claimed_size=4000),
    "billion laughs": lambda: docx_with(LAUGHS),
    "external entity": lambda: docx_with(EXTERNAL),
}
for name, make in cases.items():
    data = make()
    start = time.perf_counter()
    try:
        result = fulltext.extract_bytes(data, name + ".docx")
        outcome = "read:" + result.text[:40].replace("|", " ").replace("\n", " ")
    except ImportFailed:
        outcome = "refused"
    print(name, outcome, round(time.perf_counter() - start, 2), sep="|")
    del data

ENDNOTE_BOMB = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a0 "aaaaaaaaaa">'
                + b"".join(b'<!ENTITY a%d "%s">' % (i, (b"&a%d;" % (i - 1)) * 10)
                           for i in range(1, 9))
                + b"]><xml><records><record><titles><title>&a8;</title></titles></record>"
                b"</records></xml>")
start = time.perf_counter()
try:
    references.parse_references(ENDNOTE_BOMB, "bomb.xml")
    outcome = "read"
except ImportFailed:
    outcome = "refused"
print("endnote bomb", outcome, round(time.perf_counter() - start, 2), sep="|")


def peak_mib() -> int:
    # VmHWM is this program's own peak; ru_maxrss on Linux also carries the peak of the process
    # that started it (a big test run), which says nothing about the importers.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


print("maxrss", peak_mib(), sep="|")
