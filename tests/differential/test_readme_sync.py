"""The README shows test_readme_examples.py verbatim, and the `diff`/`fuzz`
sections it promises are there: the two must not drift apart."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "tests", "differential", "test_readme_examples.py")


def _readme() -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        return f.read()


def test_the_readme_shows_the_example_test_verbatim():
    with open(EXAMPLE, encoding="utf-8") as f:
        source = f.read()
    body = source.split("\n", 2)[2].strip("\n")        # without the docstring line
    assert "```python\n" + body + "\n```" in _readme()


def test_the_readme_tours_diff_fuzz_and_the_strategies():
    readme = _readme()
    for heading in ("### `diff`:", "### `fuzz`:", "## Your own property tests: `bpfcheck.strategies`"):
        assert heading in readme
    assert "pytest -n 2 --pyargs bpfcheck.fuzz.hypothesis_tests" in readme
