# Berth — the two commands a new machine needs: `make dev` and `make test`.
SHELL := /bin/bash
VENV := .venv
PYTHON := $(VENV)/bin/python
SWIFT_BUILD_FLAGS ?=

.PHONY: dev build test test-swift format format-check venv browser vectors models bench clean

## Build Berth and try it: a throwaway server (temporary data, printed API key) with a local AWS emulator
## and a demo cluster, account and target already registered. Ctrl-C stops it and deletes everything.
dev: venv build
	BERTH_MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server .build/debug/berth server --dev $(DEV_FLAGS)

build:
	swift build $(SWIFT_BUILD_FLAGS)

## Everything CI checks: formatting, the Python test tools, every Swift test (the store suite also on a
## throwaway PostgreSQL, installed from Debian's packages when missing).
test: venv browser format-check
	@echo "Building Berth and its tests (the first build of the dependencies takes a few minutes)…"
	@swift build --build-tests $(SWIFT_BUILD_FLAGS) > .build-log.txt 2>&1 || { cat .build-log.txt; exit 1; }
	@if grep -E "^/.*/(Sources|Tests|Benchmarks)/.*: (warning|error):" .build-log.txt | grep -v "/.build/"; then \
		echo "make test: the build has warnings in Berth's own code"; exit 1; fi
	@# The test process hosts dozens of servers whose SQLite work shares NIO's blocking thread pool
	@# (one thread per core by default): a few statements waiting out a lock would stall them all.
	NIO_SINGLETON_BLOCKING_POOL_THREAD_COUNT=16 BERTH_MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server BERTH_REQUIRE_POSTGRES=1 \
		scripts/with-postgres.sh swift test --skip-build --disable-xctest $(SWIFT_BUILD_FLAGS)

## The Python test tools (moto, awscli/botocore) in a local virtual environment.
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-test.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -r requirements-test.txt
	touch $@

## Headless Chromium and its driver for the web UI's browser tests, from Debian's packages when missing.
browser:
	@command -v chromedriver > /dev/null && command -v chromium > /dev/null || { sudo=""; [[ $$(id -u) -ne 0 ]] && sudo="sudo"; \
		echo "Installing Chromium and chromium-driver from Debian's packages for the browser tests…"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium chromium-driver > /dev/null; }

format:
	swift format format --in-place --recursive Package.swift Sources Tests Benchmarks

format-check:
	swift format lint --strict --recursive Package.swift Sources Tests Benchmarks

## Regenerate the committed SigV4 reference vectors and AWS models with the venv's botocore.
vectors: venv
	$(PYTHON) scripts/generate-sigv4-vectors.py
models: venv
	$(PYTHON) scripts/generate-aws-models.py
	$(MAKE) format

## Benchmarks (numbers, not pass/fail): signing rate, STS calls under load, whoami wall time, target listing
## (cached and cold, measured by wrk from Debian's packages), health checks, memory, deployments.
bench: venv
	@command -v wrk > /dev/null || { sudo=""; [[ $$(id -u) -ne 0 ]] && sudo="sudo"; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq wrk > /dev/null; }
	swift build -c release --product berth
	swift build -c release --product berth-benchmarks
	BERTH_MOTO_SERVER=$(CURDIR)/$(VENV)/bin/moto_server scripts/with-postgres.sh \
		.build/release/berth-benchmarks --berth .build/release/berth

clean:
	rm -rf .build $(VENV) .build-log.txt
