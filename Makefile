# voiced: build, test and package. `make` alone lists the targets.
SHELL := /bin/bash
GO ?= go
MODULE := github.com/voiced-project/voiced
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X $(MODULE)/internal/version.Version=$(VERSION)
CMDS := voiced voiced-sim
PLATFORMS := linux/amd64 linux/arm64 linux/arm
BACKEND ?= realtime

.DEFAULT_GOAL := help
.PHONY: help build build-all test test-unit test-cross lint fmt bench demo deb test-deb test-vm clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

build: ## host binaries into bin/
	@mkdir -p bin
	@for c in $(CMDS); do \
	  CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/$$c ./cmd/$$c || exit 1; done

build-all: ## static binaries for linux/amd64, arm64 and arm (ARMv6) into dist/
	@for p in $(PLATFORMS); do os=$${p%/*}; arch=$${p#*/}; \
	  for c in $(CMDS); do \
	    echo "build dist/$$os-$$arch/$$c"; \
	    CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch GOARM=6 $(GO) build -trimpath -ldflags '$(LDFLAGS)' \
	      -o dist/$$os-$$arch/$$c ./cmd/$$c || exit 1; done; done

test: lint test-unit test-cross ## everything a change must pass: format, vet, staticcheck, unit tests (race), ARM tests under qemu-user

lint: ## gofmt check, go vet, staticcheck, go.mod tidy; shellcheck and shfmt -i 2 on every shell script
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) mod tidy -diff
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@sh=$$(scripts/shell-files.sh) || exit 1; \
	  echo "shellcheck and shfmt -i 2 on $$(echo "$$sh" | wc -l) shell scripts"; \
	  shellcheck $$sh && shfmt -i 2 -d $$sh

fmt: ## format the tree: Go with gofmt, shell scripts with shfmt -i 2
	gofmt -w $$(git ls-files -co --exclude-standard '*.go')
	shfmt -i 2 -w $$(scripts/shell-files.sh)

test-unit: ## unit tests with the race detector
	$(GO) test -race -count=1 -timeout 25m ./...

test-cross: ## unit tests for GOARCH=arm (GOARM=6, on an emulated ARM1176) and arm64 under qemu-user
	CGO_ENABLED=0 GOARCH=arm GOARM=6 QEMU_CPU=arm1176 $(GO) test -short -count=1 -exec qemu-arm-static ./...
	CGO_ENABLED=0 GOARCH=arm64 $(GO) test -short -count=1 -exec qemu-aarch64-static ./...

bench: ## benchmarks and the scenario benchmark table (build/bench.json)
	bench/run.sh

demo: build ## the daemon end to end against a local fake service (BACKEND=realtime|estuary|selam), WAV files as mic and speaker
	BACKEND=$(BACKEND) scripts/demo.sh

deb: build-all ## .deb packages for arm64, armhf and amd64 into dist/
	packaging/build-deb.sh $(VERSION)

test-deb: deb ## install, upgrade, remove and purge the amd64 .deb in a debootstrap root
	packaging/test-deb.sh

test-vm: ## system tests in QEMU (amd64 and arm64 guests)
	test/vm/run.sh

clean: ## remove build outputs: bin/, dist/ and build/ but for its tracked go.mod (the caches of test-vm and test-deb stay)
	rm -rf bin dist
	find build -mindepth 1 -maxdepth 1 ! -name go.mod -exec rm -rf {} +
