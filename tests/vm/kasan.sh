# SPDX-License-Identifier: GPL-2.0
# Guest tests on the KASAN kernel: the migration matrix with offload forced
# (the cells without a migrator run on the lockdep kernel) and a DMA engine
# unbound under dcbm; any KASAN report fails "kernel log clean".
. /tests/lib.sh
. /tests/matrix.sh
matrix_setup
matrix_offloaded
# An engine unbound under dcbm while memory moves.
insmod /modules/testdma.ko channels=2 per_node=1
insmod /modules/dcbm.ko channels=2
t kasan.dcbm.unbind.engine_goes_away dcbm_unbind
rmmod dcbm; rmmod testdma
