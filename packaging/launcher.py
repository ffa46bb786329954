"""Entry point of the built program: the same as ``python -m cmo_desk``."""

import sys

from cmo_desk.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
