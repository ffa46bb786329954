"""Cancelling long work: one rule for imports and one for exports."""

from __future__ import annotations

import pytest

from cmo_desk.domain.cancel import check_export_cancel, check_import_cancel
from cmo_desk.domain.errors import Cancelled


@pytest.mark.parametrize("check", [check_import_cancel, check_export_cancel])
def test_work_goes_on_until_the_user_cancels(check) -> None:
    asked = []
    check(None)
    check(lambda: asked.append(1) or False)
    assert asked == [1]


def test_a_cancelled_import_says_nothing_was_written() -> None:
    with pytest.raises(Cancelled, match="Import cancelled; nothing was written."):
        check_import_cancel(lambda: True)


def test_a_cancelled_export_says_no_file_was_written() -> None:
    with pytest.raises(Cancelled, match="Export cancelled; no file was written."):
        check_export_cancel(lambda: True)
