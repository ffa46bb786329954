from cmo_desk.exporters.textclean import clean_text, one_line


def test_characters_xml_forbids_are_removed_and_breaks_kept():
    assert clean_text("a\x00b\x07c\x1bd\x7fe") == "abcde"
    assert clean_text("line\x0bnext\x0cpage") == "line\nnext\npage"
    assert clean_text("win\r\nmac\rend") == "win\nmac\nend"
    assert clean_text("peer work\ufffeers") == "peer workers"
    assert clean_text("lone \ud800 surrogate\uffff") == "lone  surrogate"


def test_real_text_is_untouched():
    text = "Равные консультанты — 同伴教育 — العاملون الأقران\tTab 😀 naïve"
    assert clean_text(text) == text


def test_none_and_numbers_become_text():
    assert clean_text(None) == ""
    assert clean_text(4) == "4"
    assert one_line("  two\n lines\x00 ") == "two lines"
