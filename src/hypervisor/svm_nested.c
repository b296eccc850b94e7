// SPDX-License-Identifier: GPL-2.0-only
/* Nested SVM: placeholder until the VMRUN emulation lands. */
#include "svm.h"

int svm_nested_setup(struct hv *hv, struct svm_cpu *sc)
{
	return 0;
}

void __hv_host svm_nested_l1_exit(struct svm_cpu *sc, u32 code)
{
	svm_inject(&sc->hv, 6, false, 0);
}

void __hv_host svm_nested_l2_exit(struct svm_cpu *sc)
{
}
