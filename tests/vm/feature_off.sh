# SPDX-License-Identifier: GPL-2.0
# Guest tests on the kernel built without the feature: the hugetlb cells of
# the matrix, the reference every other kernel must match.
. /tests/lib.sh
. /tests/matrix.sh
matrix_hugetlb off
t matrix.off.hugetlb.soft_offline hugetlb_cell off hugetlb soft_offline 2 0 2
