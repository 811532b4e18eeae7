"""The fuzz campaign as ordinary Hypothesis tests (bpfcheck.fuzz.hypothesis_tests).

By default a short, derandomized run for CI.  For a campaign over every
core, sharing Hypothesis' example database between the workers::

    BPFCHECK_FUZZ_PROFILE=campaign .venv/bin/python -m pytest -n 8 tests/fuzz/test_campaign.py

or under HypoFuzz (which ignores ``max_examples`` and runs until stopped)::

    hypothesis fuzz -- tests/fuzz/test_campaign.py

``BPFCHECK_FUZZ_EXAMPLES`` sets the examples per test of the campaign profile.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

from bpfcheck.fuzz import hypothesis_tests as campaign

from oracle_marks import needs_kernel, needs_libpcap, needs_seccomp

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
          HealthCheck.large_base_example]
PROFILES = {
    # the same examples on every run and machine, nothing written anywhere
    "ci": settings(max_examples=15, derandomize=True, deadline=None, database=None,
                   suppress_health_check=_QUIET, print_blob=False),
    # the default example database (.hypothesis/): xdist workers share it
    "campaign": settings(max_examples=int(os.environ.get("BPFCHECK_FUZZ_EXAMPLES", "5000")),
                         deadline=None, suppress_health_check=_QUIET),
}
SETTINGS = PROFILES[os.environ.get("BPFCHECK_FUZZ_PROFILE", "ci")]

TESTS = campaign.build_tests(SETTINGS)

test_socket_verdicts_match_the_kernel = needs_kernel(TESTS["test_socket_verdicts_match_the_kernel"])
test_seccomp_verdicts_match_the_kernel = needs_seccomp(TESTS["test_seccomp_verdicts_match_the_kernel"])
test_pcap_verdicts_match_libpcap = needs_libpcap(TESTS["test_pcap_verdicts_match_libpcap"])
test_socket_programs_under_libpcap_rules_match_libpcap = needs_libpcap(
    TESTS["test_socket_programs_under_libpcap_rules_match_libpcap"])
test_validation_matches_the_kernel = needs_kernel(TESTS["test_validation_matches_the_kernel"])
test_seccomp_validation_matches_the_kernel = needs_seccomp(TESTS["test_seccomp_validation_matches_the_kernel"])
test_validation_matches_libpcap = needs_libpcap(TESTS["test_validation_matches_libpcap"])
test_fast_paths_match_the_reference_vm = TESTS["test_fast_paths_match_the_reference_vm"]


def test_every_check_is_exposed_here_and_in_the_module():
    names = {n for n in globals() if n.startswith("test_")} - {"test_every_check_is_exposed_here_and_in_the_module"}
    assert names == set(TESTS) == {n for n in vars(campaign) if n.startswith("test_")}
