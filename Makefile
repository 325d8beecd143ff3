# mydocker: one static musl binary. See README.
include config/config.mk

B        := build/$(ARCH)
SRC      := build/src
BSSL     := $(SRC)/bearssl-$(BEARSSL_VER)
LIBSRC   := $(sort $(wildcard lib/*.c))
APPSRC   := $(sort $(wildcard applets/*.c))
OBJ      := $(patsubst %.c,$(B)/%.o,$(LIBSRC) $(APPSRC))
CPPFLAGS := -isystem $(B)/kinc -I$(BSSL)/inc -Ilib -Iconfig -DMYDOCKER_VERSION='"$(VERSION)"'
UNITS    := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

ifeq ($(ARCH),x86_64)
BIN := mydocker
BIN_RUN := ./mydocker
else
BIN := $(B)/mydocker
BIN_RUN := qemu-aarch64-static $(B)/mydocker
endif

all: $(BIN)

$(BIN): $(OBJ) $(B)/libbearssl.a
	$(XCC) $(CFLAGS) -o $@ $(OBJ) $(LDFLAGS) -L$(B) -lbearssl
	@echo "$@: $$(stat -c %s $@) bytes"

$(B)/%.o: %.c lib/*.h config/*.h | $(B)/kinc $(BSSL)/.ok
	@mkdir -p $(dir $@)
	$(XCC) $(CSTD) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# Tool chain and packages: installed from Debian when missing.
$(B)/.deps:
	@command -v $(XCC) >/dev/null 2>&1 || config/deps.sh $(ARCH)
	@mkdir -p $(B) && touch $@

$(B)/kinc: | $(B)/.deps
	mkdir -p $@.tmp && for d in $(KHDR_$(ARCH)); do ln -sfn $$d $@.tmp/; done && mv $@.tmp $@

# BearSSL: Debian's source package, unpacked into build/src, never committed.
$(BSSL)/.ok: | $(B)/.deps
	@mkdir -p $(SRC)
	@ls $(SRC)/bearssl_*.orig.tar.* >/dev/null 2>&1 || \
	  (cd $(SRC) && apt-get source --download-only bearssl >/dev/null 2>&1) || \
	  (config/deps.sh $(ARCH) && cd $(SRC) && apt-get source --download-only bearssl >/dev/null)
	rm -rf $(BSSL) && tar -C $(SRC) -xf $(SRC)/bearssl_*.orig.tar.* && touch $@

BSSL_SRC = $(foreach d,$(BEARSSL_DIRS),$(wildcard $(BSSL)/src/$(d)/*.c))
$(B)/libbearssl.a: $(BSSL)/.ok config/config.mk
	@mkdir -p $(B)/bearssl
	@for f in $(foreach d,$(BEARSSL_DIRS),$(BSSL)/src/$(d)/*.c); do \
	  echo "$(XCC) $(OPT) -I$(BSSL)/inc -I$(BSSL)/src -c $$f -o $(B)/bearssl/$$(basename $$f .c).o"; \
	done | xargs -P$$(nproc) -I{} sh -c '{}'
	rm -f $@ && $(XAR) rcs $@ $(B)/bearssl/*.o

# Tests ---------------------------------------------------------------------
# Unit tests: static musl builds against the product's own objects, plus host builds with
# ASan/UBSan (which cannot link statically) from objects compiled once per variant.
LIBOBJ  := $(patsubst %.c,$(B)/%.o,$(LIBSRC))
ASANOBJ := $(patsubst %.c,$(B)/asan/%.o,$(LIBSRC))
ASAN    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -no-pie
$(B)/unit/%: tests/unit/%.c tests/unit/unit.h $(LIBOBJ) $(B)/libbearssl.a
	@mkdir -p $(dir $@)
	$(XCC) $(CSTD) $(CPPFLAGS) -Itests/unit -O1 -g $(WARN) -o $@ $< $(LIBOBJ) -static -L$(B) -lbearssl

$(B)/asan/lib/%.o: lib/%.c lib/*.h config/*.h | $(BSSL)/.ok
	@mkdir -p $(dir $@)
	cc $(CSTD) -I$(BSSL)/inc -Ilib -Iconfig $(ASAN) $(WARN) -c -o $@ $<

$(B)/asan/libbearssl.a: $(BSSL)/.ok config/config.mk
	@mkdir -p $(B)/asan/bssl
	@for f in $(BSSL_SRC); do echo $$f; done | xargs -P$$(nproc) -I{} sh -c \
	  'cc -O1 -g -fsanitize=address,undefined -I$(BSSL)/inc -I$(BSSL)/src -c {} -o $(B)/asan/bssl/$$(basename {} .c).o'
	rm -f $@ && ar rcs $@ $(B)/asan/bssl/*.o

$(B)/asan/%: tests/unit/%.c tests/unit/unit.h $(ASANOBJ) $(B)/asan/libbearssl.a
	cc $(CSTD) -I$(BSSL)/inc -Ilib -Iconfig -Itests/unit $(ASAN) $(WARN) -o $@ $< $(ASANOBJ) \
	  -L$(B)/asan -lbearssl

units: $(addprefix $(B)/unit/,$(UNITS))
units-asan: $(addprefix $(B)/asan/,$(UNITS))

# Everything: unit tests (static, sanitized, arm64 under qemu-user), behaviour tests on real
# containers, and the lifecycle on real amd64 and arm64 kernels (MYDOCKER_VM=0 leaves those out).
test: $(BIN) units units-asan rootfs/busybox.tar
	config/deps.sh test
	$(MAKE) ARCH=arm64 all units
	tests/run.sh

bench: $(BIN)
	tests/bench/run.sh

# Long reliability runs (tests/soak.sh): 1000 run --rm cycles must leak nothing, then t_crash for
# 10 minutes and t_parallel with 50 containers. SOAK_N, SOAK_CRASH_SECS change the budget.
soak: $(BIN) rootfs/busybox.tar
	sh tests/soak.sh

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/mydocker
	for a in $$($(BIN_RUN) --list); do ln -sfn mydocker $(DESTDIR)$(BINDIR)/mydocker-$$a; done

# The default image: rootfs/busybox.tar, imported as busybox.
image: rootfs/busybox.tar
rootfs/busybox.tar: rootfs/mkrootfs.sh
	rootfs/mkrootfs.sh $@

demo: $(BIN) rootfs/busybox.tar
	./$(BIN) import rootfs/busybox.tar busybox
	./$(BIN) images
	./$(BIN) run --rm busybox echo "hello from a busybox container"


clean:
	rm -rf build/x86_64 build/arm64 mydocker rootfs/busybox.tar

distclean: clean
	rm -rf build

.PHONY: all test units units-asan bench soak install image demo clean distclean
.SECONDARY:

# arm64: the unit tests of the cross build, run under qemu-user.
test-arm64:
	$(MAKE) ARCH=arm64 all units
	@command -v qemu-aarch64-static >/dev/null || config/deps.sh arm64
	@for t in build/arm64/unit/test_*; do qemu-aarch64-static $$t || exit 1; done
.PHONY: test-arm64

# Real kernels (Debian amd64 + arm64, cached in build/vm) under qemu-system: tests/vm/run.sh.
vm-test:
	tests/vm/run.sh
.PHONY: vm-test

# Fuzzing (clang libFuzzer + ASan/UBSan): make fuzz [FUZZ_TIME=seconds per target]
FUZZ_TIME ?= 30
FUZZERS   := json tar inflate load runopts
FUZZ_json := lib/json.c lib/util.c
FUZZ_tar  := lib/tar.c lib/util.c
FUZZ_inflate := lib/inflate.c lib/util.c
FUZZ_load := lib/load.c lib/image.c lib/layer.c lib/sig.c lib/state.c lib/util.c lib/json.c lib/tar.c \
             lib/inflate.c lib/digest.c -I$(BSSL)/inc build/fuzz/libbearssl.a
FUZZ_runopts := lib/cgparse.c lib/ipam.c lib/network.c lib/util.c lib/state.c lib/json.c lib/netlink.c \
             lib/nft.c lib/cgroup.c lib/cgbpf.c
build/fuzz/fuzz_load: build/fuzz/libbearssl.a
build/fuzz/libbearssl.a: $(BSSL)/.ok
	@mkdir -p build/fuzz/bssl
	@command -v clang >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang >/dev/null
	for f in $(BSSL_SRC); do echo $$f; done | xargs -P$$(nproc) -I{} sh -c \
	  'clang -O1 -g -I$(BSSL)/inc -I$(BSSL)/src -c {} -o build/fuzz/bssl/$$(basename {} .c).o'
	rm -f $@ && ar rcs $@ build/fuzz/bssl/*.o
build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c lib/*.c lib/*.h
	@mkdir -p build/fuzz
	@command -v clang >/dev/null && [ -n "$$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a | grep /)" ] \
	  || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Ilib -Iconfig -o $@ $< $(FUZZ_$*)

fuzz: $(addprefix build/fuzz/fuzz_,$(FUZZERS))
	@for f in $(FUZZERS); do \
	  mkdir -p build/fuzz/corpus-$$f && cp -n tests/fuzz/corpus/$$f/* build/fuzz/corpus-$$f/ ; \
	  echo "fuzz $$f for $(FUZZ_TIME) s"; \
	  build/fuzz/fuzz_$$f -max_total_time=$(FUZZ_TIME) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 build/fuzz/corpus-$$f 2>build/fuzz/$$f.log \
	    || { tail -40 build/fuzz/$$f.log; exit 1; }; \
	  grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' build/fuzz/$$f.log; \
	done
.PHONY: fuzz
