# SPDX-License-Identifier: GPL-2.0
# Guest tests on the KASAN kernel: the migration matrix with offload forced
# (the cells without a migrator run on the lockdep kernel); any KASAN report
# fails "kernel log clean".
. /tests/lib.sh
. /tests/matrix.sh
matrix_setup
matrix_offloaded
