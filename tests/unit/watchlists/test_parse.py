"""Reading a pasted or uploaded wallet list: every address checked and lowercased, every bad line reported."""

from __future__ import annotations

import pytest

from pm_assets.wallets.watchlists import check_name, parse_wallet_list

A = "0x" + "ab" * 20
B = "0x" + "0c" * 20


def test_addresses_are_normalised_with_labels_and_notes():
    parsed = parse_wallet_list(
        f"address,label,note\n{A.upper().replace('0X', '0x')}, whale ,big on politics\n{B}\n"
    )
    assert [(e.line, e.wallet, e.label, e.note) for e in parsed.entries] == [
        (2, A, "whale", "big on politics"),
        (3, B, None, None),
    ]
    assert parsed.problems == []


def test_bad_lines_and_duplicates_are_reported_with_line_and_reason_never_dropped():
    text = "\n".join([A, "0x1234", "", "hello,label", f"{A.upper()[2:]}", f" {A} ,again", f"0x{'g' * 40}", B])
    parsed = parse_wallet_list(text)
    assert [e.wallet for e in parsed.entries] == [A, B]
    reasons = {p.line: p.reason for p in parsed.problems}
    assert reasons == {
        2: "not an address: 0x must be followed by 40 hexadecimal characters, found 4",
        4: "not an address: it must start with 0x",
        5: "not an address: it must start with 0x",
        6: "duplicate of line 1",
        7: "not an address: only hexadecimal characters (0-9, a-f) may follow 0x",
    }
    assert parsed.blank_lines == 1
    # Every non-blank line is either an entry or a problem.
    assert len(parsed.entries) + len(parsed.problems) == len([x for x in text.splitlines() if x.strip()])


def test_too_many_columns_is_a_problem_not_a_truncation():
    parsed = parse_wallet_list(f"{A},a,b,c")
    assert parsed.entries == [] and parsed.problems[0].reason == "4 columns; expected address, label, note"


def test_a_quoted_csv_cell_keeps_its_comma():
    [entry] = parse_wallet_list(f'{A},"Smith, J",note').entries
    assert entry.label == "Smith, J"


def test_names():
    assert check_name("  my   list ") == "my list"
    with pytest.raises(ValueError, match="needs a name"):
        check_name("   ")
