# Build configuration. Override on the command line: make ARCH=arm64, make PREFIX=/opt/mydocker.
ARCH     ?= x86_64
ifeq ($(ARCH),aarch64)
override ARCH := arm64
endif
PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
DESTDIR  ?=

CC_x86_64   = musl-gcc
CC_arm64    = aarch64-linux-musl-gcc
AR_x86_64   = ar
AR_arm64    = aarch64-linux-gnu-ar
# Kernel uapi headers (musl-gcc uses -nostdinc, so they are linked into build/ARCH/kinc)
KHDR_x86_64 = /usr/include/linux /usr/include/asm-generic /usr/include/x86_64-linux-gnu/asm
KHDR_arm64  = /usr/aarch64-linux-gnu/include/linux /usr/aarch64-linux-gnu/include/asm-generic \
              /usr/aarch64-linux-gnu/include/asm

XCC      = $(CC_$(ARCH))
XAR      = $(AR_$(ARCH))
VERSION  = 0.1.0

CSTD     = -std=gnu11
WARN     = -Wall -Wextra -Wno-format-truncation -Wno-unused-parameter -Wshadow -Wstrict-prototypes
OPT      = -Os -fno-pie -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables \
           -fno-unwind-tables -fno-stack-protector
CFLAGS   ?= $(OPT) -Oz -flto $(WARN)
LDFLAGS  ?= -static -no-pie -flto=auto -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none -s

# BearSSL from Debian's source package; only these parts are compiled.
BEARSSL_VER  = 0.6
BEARSSL_DIRS = hash codec ec rsa int
