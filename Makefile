# proxyfs — the two commands of the README are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := build

DOTNET ?= dotnet
CONFIG ?= Release
# bin/proxyfs is compiled ahead of time to native code for this machine (NativeAOT): a fresh daemon runs compiled code
# from its first request instead of spending its first GiBs in the JIT (measured in docs/ARCHITECTURE.md, "Start-up
# and the JIT"). AOT=0 publishes it ReadyToRun instead (framework-dependent, precompiled, the JIT still tiering up).
AOT ?= 1
RID ?= linux-$(subst aarch64,arm64,$(subst x86_64,x64,$(shell uname -m)))
ifeq ($(AOT),1)
PUBLISH_DIR := out/publish-aot
PUBLISH_FLAGS := -p:PublishAot=true -p:PublishReadyToRun=false
else
PUBLISH_DIR := out/publish
PUBLISH_FLAGS := --self-contained false -p:PublishReadyToRun=true
endif
DEMO_DIR ?= $(CURDIR)/demo
DEMO_MNT ?= $(DEMO_DIR)/mnt
DEMO_URI ?= file://$(DEMO_DIR)/store

.PHONY: deps build test soak demo demo-stop bench bench-fs bench-reads bench-objectstore bench-fsync bench-million gc-check format format-check package package-smoke clean

## deps: install what building and testing need (idempotent; apt and npm)
deps:
	@bash scripts/install-deps.sh

## build: compile everything and leave the executable at bin/proxyfs (NativeAOT; AOT=0 for ReadyToRun)
build:
	$(DOTNET) build proxyfs.sln -c $(CONFIG) -nologo -clp:ErrorsOnly
	$(DOTNET) publish src/ProxyFs.Host/ProxyFs.Host.csproj -c $(CONFIG) -nologo -o $(PUBLISH_DIR) -r $(RID) $(PUBLISH_FLAGS) \
	  -clp:ErrorsOnly
	@mkdir -p bin && ln -sfn ../$(PUBLISH_DIR)/proxyfs bin/proxyfs
	@echo "built bin/proxyfs"

## test: every test of every project, on real mounts and real S3 servers; ends with "N passed, N failed"
test: deps build
	@bash scripts/test.sh

## soak: hundreds of kill -9 / crash point cycles of the real daemon under a mixed workload (SOAK_CYCLES, default 300)
SOAK_CYCLES ?= 300
soak: build
	PROXYFS_SOAK_CYCLES=$(SOAK_CYCLES) $(DOTNET) test tests/ProxyFs.Integration.Tests -c $(CONFIG) -nologo \
		--filter "FullyQualifiedName~CrashTests.Soak" --logger "console;verbosity=detailed"

## demo: mount a demo volume at ./demo/mnt and say how to use it
demo: deps build
	@bash scripts/demo.sh "$(DEMO_URI)" "$(DEMO_MNT)"

demo-stop:
	@bin/proxyfs unmount "$(DEMO_MNT)"

## bench: every benchmark, each printing ratios against baselines run in the same invocation
bench: bench-fs bench-objectstore bench-reads

## bench-fs: filesystem workloads on proxyfs and, in the same run, on tmpfs and bindfs
bench-fs: deps build
	@bash scripts/bench.sh

## bench-reads: cold s3:// reads vs a raw 4-stream GET, warm reads vs bindfs, 3:1 cache weights, daemon RSS
bench-reads: deps build
	@bash scripts/bench/reads.sh

## bench-million: a 1,000,000-file file:// volume: mount time, RSS after ls -lR (not in `make bench`: it takes ~10 min)
bench-million: deps build
	@bash scripts/bench/million.sh

## gc-check: write GC_SIZE_MIB (1024) through a mount, delete it, gc: under 5% of it may stay in the store
gc-check: deps build
	@bash scripts/gc-check.sh

## bench-objectstore: 8 MiB PUT/GET through the s3:// backend and a raw SDK client on the same local server
bench-objectstore: deps
	@bash scripts/s3/bench.sh

## bench-fsync: fsync latency (p50/p99) of 4 KiB writes on a file:// volume and on radosgw
bench-fsync: build
	@bash scripts/bench/fsync.sh

## package: build out/proxyfs_<version>_<arch>.deb holding the NativeAOT bin/proxyfs of `make build` (dpkg-deb); prints its path on stdout
package:
	@bash packaging/build-deb.sh out

## package-smoke: install the .deb, mount through fstab, check the mistakes, remove it (root)
package-smoke:
	@bash scripts/package-smoke.sh

format:
	$(DOTNET) format proxyfs.sln

## format-check: fails when the code is not formatted as .editorconfig says
format-check:
	$(DOTNET) format proxyfs.sln --verify-no-changes --no-restore

clean:
	rm -rf bin out artifacts
	find src tests -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} +
