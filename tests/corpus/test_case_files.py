"""Which files are cases, and the compatible additions to the format."""

from corpus_support import tcp80_case, write

from bpfcheck.corpus.case import dump_case, load_case, parse_case
from bpfcheck.corpus.discover import find_cases, is_case_file


def test_case_files_are_recognised_by_marker_or_place(tmp_path):
    case = tcp80_case(tmp_path, "web")
    other = write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    commented = write(tmp_path, "c.toml", "# a comment first\n\nformat = 'bpfcheck-case/1'\n")
    under = write(tmp_path / "corpora" / "x", "broken.toml", "not toml at all [\n")
    assert is_case_file(case) and is_case_file(commented) and is_case_file(under)
    assert not is_case_file(other)
    assert sorted(find_cases(str(tmp_path))) == sorted([case, commented, under])
    hidden = write(tmp_path / ".git", "x.toml", "format = 'bpfcheck-case/1'\n")
    assert hidden not in find_cases(str(tmp_path))


def test_valid_false_round_trips_and_old_files_still_read(tmp_path):
    case = parse_case('format = "bpfcheck-case/1"\nvalid = false\n[program]\ntext = "ret #0"\n', "x.toml")
    assert case.valid is False
    assert "valid = false" in dump_case(case)
    assert parse_case(dump_case(case)).valid is False
    assert load_case(tcp80_case(tmp_path)).valid is True
    assert "valid" not in dump_case(load_case(tcp80_case(tmp_path)))
