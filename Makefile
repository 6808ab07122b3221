# Vigil — build, run and test. `make run` and `make test` work on a fresh Debian machine with Swift 6.
SWIFT ?= swift
export PATH := /opt/swift/usr/bin:$(PATH)

.PHONY: deps build release run test test-swift test-postgres test-e2e lint format bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product vigil

## Build and start the server on SQLite in ./vigil-data with demo data; prints the admin setup link.
run: build
	.build/debug/vigil serve --demo-data

## Every test: Swift tests on SQLite, the store and web tests again on PostgreSQL, then the browser tests.
test: deps lint
	$(SWIFT) build --build-tests
	$(MAKE) test-swift test-postgres test-e2e

test-swift:
	$(SWIFT) test --skip-build

test-postgres:
	scripts/with-postgres.sh $(SWIFT) test --skip-build --filter 'VigilStoreTests|VigilWebTests'

test-e2e:
	$(SWIFT) build --product vigil
	VIGIL_BIN=$(CURDIR)/.build/debug/vigil python3 -m pytest -q Tests/e2e

## swift-format, with the rules in .swift-format; warnings fail (`make format` fixes most of them).
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests

format:
	$(SWIFT) format format -i --recursive Sources Tests

bench:
	$(SWIFT) build -c release
	@for s in bench/*/run.sh; do echo "== $$s"; VIGIL=$(CURDIR)/.build/release/vigil bash $$s || exit 1; done

clean:
	rm -rf .build
