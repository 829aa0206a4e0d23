# SPDX-License-Identifier: GPL-2.0
# Guest tests on the KASAN kernel: the migration matrix with offload forced
# (the cells without a migrator run on the lockdep kernel), dcbm's fault
# paths (injected errors, a hung engine: timeout, held destinations, late
# completion) over the engines that stop their transfers (ptdma) and that
# complete out of order (idxd), and a DMA engine unbound under dcbm; any
# KASAN report fails "kernel log clean".
. /tests/lib.sh
. /tests/matrix.sh
. /tests/engines.sh
matrix_setup
matrix_offloaded
engine_contracts kasan.dcbm "ptdma idxd" "faults hung_engine"
must rmmod dcbm && must rmmod testdma
# An engine unbound under dcbm while memory moves.
must insmod /modules/testdma.ko channels=2 per_node=1
must insmod /modules/dcbm.ko channels=2
t kasan.dcbm.unbind.engine_goes_away dcbm_unbind
must rmmod dcbm && must rmmod testdma
