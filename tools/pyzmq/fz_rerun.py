"""pytest plugin for run.sh: gives the tests named in FZ_RERUN (space-separated node ids) the
flaky(reruns=N) mark of pytest-rerunfailures, as pyzmq itself marks its timing-based tests.

Only tests expected-skips.txt names with a `rerun` line get it, each with the evidence that
its race is in the test and shows on every libzmq. A rerun is reported (pytest's -v output
says RERUN, and summary.py counts them): it is never silent.
"""

import os

import pytest

RERUNS = 2


def pytest_collection_modifyitems(config, items):
    wanted = set(os.environ.get("FZ_RERUN", "").split())
    for item in items:
        if item.nodeid in wanted and item.get_closest_marker("flaky") is None:
            item.add_marker(pytest.mark.flaky(reruns=RERUNS))
