import os
import shutil
import subprocess

import pytest

#: what `make test` would install (Debian 12): apt-get install -y chromium
APT_LINE = ["apt-get", "install", "-y", "-qq", "chromium"]


def _install() -> str:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "chromium is not installed and this is not a root Debian machine to install it on"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        done = subprocess.run(APT_LINE, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
            done = subprocess.run(APT_LINE, env=env, capture_output=True, text=True, timeout=900)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"installing chromium failed: {e}"
    if done.returncode != 0:
        return f"apt-get install chromium failed: {done.stderr.strip()[-300:]}"
    return ""


@pytest.fixture(scope="session")
def chromium():
    """The path of Debian's chromium, installed with apt when missing
    (skips, saying why, only when it cannot be installed)."""
    path = shutil.which("chromium")
    if path is None:
        why = _install()
        path = shutil.which("chromium")
        if path is None:
            pytest.skip(why or "chromium is not available")
    return path
