# The two commands of the README: `make run` and `make test`. Everything else is a helper.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: run test build deps deps-test fuzz bench clean install

run: deps build
	mkdir -p var
	$(BUILD)/bin/berthd

test: deps-test build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 600

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

# berthd and berth into /usr/local/bin, berth-cni into /opt/cni/bin (override with
# BERTH_CNI_PLUGIN_DIR=... at configure time, e.g. /usr/lib/cni for Debian's podman defaults).
install: deps build
	cmake --install $(BUILD)

deps:
	bash scripts/setup.sh build

deps-test:
	bash scripts/setup.sh test

# libFuzzer builds (clang); run e.g. build-fuzz/bin/fuzz_dns_message fuzz/corpus/dns_message
fuzz: deps-test
	CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DBERTH_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j$(JOBS)

bench: deps-test build
	bash bench/dns_auth.sh
	bash bench/dns_update.sh
	bash bench/net_attach.sh
	bash bench/podman_run.sh

clean:
	rm -rf $(BUILD) build-fuzz
