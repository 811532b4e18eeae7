# The two commands a newcomer needs: `make demo` and `make test`.
# Both build .venv/ at the repo root on a fresh Debian machine (as root).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test venv sysdeps browser bpf_asm bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]' -c constraints.txt
	-$(PY) -m bpfcheck.fast.native
	touch $(STAMP)

venv: $(STAMP)

# The oracles: libpcap (userland bpf_filter, the compiler) and tcpdump.
sysdeps:
	@if ! ldconfig -p | grep -q 'libpcap.so.0.8' || ! ldconfig -p | grep -q 'libseccomp.so.2' || ! command -v tcpdump >/dev/null || ! command -v cc >/dev/null; then \
	  echo "installing tcpdump, libpcap0.8 and a C compiler with apt-get"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tcpdump libpcap0.8 libseccomp2 iproute2 gcc libc6-dev) >/dev/null; \
	fi

# A headless browser for the HTML report's screenshot test.
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null

demo: sysdeps $(STAMP)
	$(PY) -m bpfcheck demo

# The kernel's cBPF assembler, an oracle for the bpf_asm format; best
# effort (without it, the two tests that need it skip and say why).
bpf_asm: $(STAMP)
	-@$(PY) tools/build_bpf_asm.py $(VENV)/bin/bpf_asm

test: sysdeps $(STAMP) browser bpf_asm
	$(PY) -m pytest -q -n 2 tests

bench: sysdeps $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
