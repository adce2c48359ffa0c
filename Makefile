# One-command tasks (docs/DEVELOPING.md "Tasks").  `.ci/run` installs everything, then runs
# `make lint types`, `make test-fast` and `make test`; each target prints its time.
PY      ?= .venv/bin/python
PYTEST  ?= $(PY) -m pytest
VERSION ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)

# The pure layers, driven with no processes (a few seconds): the core and EAP test modules that start
# none (a module that mentions subprocess/multiprocessing/Popen/sys.executable belongs to `test`),
# the codecs and the sans-I/O Diameter peer.
STARTS_PROCESSES := subprocess|multiprocessing|Popen|sys\.executable
FAST := $(shell grep -L -E '$(STARTS_PROCESSES)' tests/core/test_*.py tests/eap/test_*.py) \
        tests/diameter/test_codec.py tests/diameter/test_codec_vectors.py tests/diameter/test_avps.py \
        tests/diameter/test_peer.py \
        tests/radius/test_codec.py tests/radius/test_duplicate_cache.py tests/pcrf/test_gx_codec.py

# Benchmarks and their same-run references (FreeRADIUS for RADIUS, SQLite vs PostgreSQL for the store).
BENCHMARKS := store_reserve_debit store_backends diameter_ro diameter_node diameter_relay radius_load \
              eap_aka eap_pwd gx_pairs rest_quota snmp_get translog

# Run a command, print how long it took, keep its exit status.
timed = @start=$$(date +%s); $(1); rc=$$?; echo "== $@ took $$(( $$(date +%s) - start ))s"; exit $$rc

.PHONY: lint types test-fast test bench deb
lint:
	$(call timed,$(PY) -m ruff check appliance tests benchmarks)

# mypy with pyproject's settings; tests/test_types.py holds the list of known errors it tolerates
types:
	$(call timed,$(PYTEST) -q -p no:cacheprovider tests/test_types.py)

test-fast:
	$(call timed,$(PYTEST) -q -p no:cacheprovider $(FAST))

test:
	$(call timed,$(PYTEST) -q --durations=15 tests)

bench:
	$(call timed,for b in $(BENCHMARKS); do echo "-- $$b"; $(PY) benchmarks/$$b.py || exit 1; done)

deb:
	$(call timed,packaging/deb/build.sh $(VERSION) dist/)
