// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel symbols that are not exported.  kallsyms_lookup_name itself is not
 * exported since 5.7; a kprobe registered by name resolves its address
 * through the kernel's own lookup, which is the documented way to get it.
 */
#include <linux/kprobes.h>
#include <linux/kallsyms.h>
#include "hyperbox.h"

static unsigned long (*hv_lookup)(const char *name);

/*
 * Every lookup can fail on some kernel, and each caller's refusal path is
 * otherwise only taken there.  Tests name one symbol here to take it.
 */
static char *hide_symbol;
module_param(hide_symbol, charp, 0444);
MODULE_PARM_DESC(hide_symbol, "Testing: act as if the kernel lacked this symbol, so that the load is refused");

int hv_symbols_init(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	int ret;

	ret = register_kprobe(&kp);
	if (ret < 0) {
		pr_err(HV_NAME ": refusing to load: cannot resolve kallsyms_lookup_name (kprobe: %d)\n", ret);
		return ret;
	}
	hv_lookup = (void *)kp.addr;
	unregister_kprobe(&kp);
	return 0;
}

/* 0 if missing; callers that need the symbol refuse to load, naming it. */
unsigned long hv_sym(const char *name)
{
	unsigned long a = hv_lookup ? hv_lookup(name) : 0;

	if (hide_symbol && !strcmp(name, hide_symbol))
		a = 0;

	if (!a)
		pr_err(HV_NAME ": refusing to load: kernel symbol %s not found\n", name);
	return a;
}
