# moerag: the two commands of the README quick start, and a few helpers.
#   make run    install what is missing, build, serve the demo on http://127.0.0.1:8080/
#   make test   install what is missing (incl. test tools), build, run every test
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
ARGS ?=

.PHONY: run test build deps test-deps clean

run: deps build
	./$(BUILD)/moerag serve --set demo.enabled=true $(ARGS)

test: test-deps build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS) --timeout 900

build:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j$(JOBS)

deps:
	scripts/install-deps.sh

test-deps:
	scripts/install-deps.sh --test

clean:
	rm -rf $(BUILD)
