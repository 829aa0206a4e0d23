# SPDX-License-Identifier: GPL-2.0
# Entry points of the migration copy offload overlay; see README.md.

S := scripts

.PHONY: all prepare vm kunit vmtest static series docs test demo demo-arm64 bench bench-nocost export-patches clean distclean

all: demo

prepare:
	@$(S)/prepare.sh

vm: prepare
	@$(S)/vm-build.sh

kunit: prepare
	@$(S)/kunit.sh

vmtest: vm
	@$(S)/vm-run.sh tests

static: vm
	@$(S)/static.sh

series: prepare
	@python3 $(S)/series.py $(CURDIR) $(CURDIR)/build/linux $(CURDIR)/build/series

docs: prepare
	@$(S)/docs.sh

test:
	@$(S)/test.sh

demo:
	@$(S)/demo.sh

demo-arm64:
	@$(S)/demo.sh arm64

bench:
	@$(S)/bench.sh

bench-nocost:
	@$(S)/bench.sh nocost

export-patches:
	@$(S)/export-patches.sh

# Keep the prepared tree and the ccache: the next build is incremental.
clean:
	rm -rf build/vm build/vm-off build/vm-kasan build/vm-bench build/vm-bench-off build/vm-arm64 build/vm-modules build/kunit build/initramfs build/bench \
		build/series build/docs

distclean:
	rm -rf build
