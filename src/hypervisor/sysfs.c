// SPDX-License-Identifier: GPL-2.0-only
/*
 * /sys/kernel/hyperbox: state, counters, violations, protected ranges.
 * This side runs in L1, so it reads only what L1 may read: the counters
 * page (read-only in the NPT) and copies taken before launch.
 */
#include <linux/kobject.h>
#include <linux/sysfs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/cpumask.h>
#include <linux/math64.h>
#include <linux/string.h>
#include "hyperbox.h"
#include "monitor.h"



static struct kobject *hv_kobj;
static const struct hv_shared *hv_sh;
static const char *const *hv_exit_names;
static bool hv_hc_vmcall;
static struct hv_range *hv_ranges_copy;
static unsigned int hv_nr_ranges;
static struct hv_policy hv_pol;
static u64 hv_log_seen;

static u64 hv_ping(void)
{
	u64 rax = HV_HC_MAGIC;

	if (hv_hc_vmcall)
		asm volatile("vmcall" : "+a"(rax) : "b"((u64)HV_HC_PING) : "memory");
	else
		asm volatile("vmmcall" : "+a"(rax) : "b"((u64)HV_HC_PING) : "memory");
	return rax;
}

static ssize_t state_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	unsigned int n = 0, cpu;
	bool here;

	for_each_online_cpu(cpu)
		n += hv_cpu_is_launched(cpu);
	cpu = get_cpu();
	/* Proof from Ring -1 itself, not from our own bookkeeping. */
	here = hv_cpu_is_launched(cpu) && hv_ping() == 0x600d;
	put_cpu();
	return sysfs_emit(buf, "%s cpus=%u/%u\n", here ? "active" : "inactive", n, num_online_cpus());
}

static u64 sum(size_t off)
{
	unsigned int cpu;
	u64 s = 0;

	for_each_possible_cpu(cpu)
		s += *(const u64 *)((const char *)&hv_sh->cpu[cpu] + off);
	return s;
}

/* The sum of the exit counter called name, or -1 if this vendor has none. */
static s64 exit_sum(const char *name)
{
	int i;

	for (i = 0; hv_exit_names[i]; i++)
		if (!strcmp(hv_exit_names[i], name))
			return sum(offsetof(struct hv_cpu_stats, exits[i]));
	return -1;
}

/* "name 12.345": what per L2 run, three decimals. */
static ssize_t emit_per_run(char *buf, ssize_t n, const char *name, u64 what, u64 runs)
{
	u64 milli = div64_u64(what * 1000 + runs / 2, runs);

	return sysfs_emit_at(buf, n, "%s %llu.%03llu\n", name, div64_u64(milli, 1000),
			     milli - div64_u64(milli, 1000) * 1000);
}

/*
 * Per L2 run (an L1 VMRUN/VMLAUNCH/VMRESUME Hyper-box carried out): every
 * exit Hyper-box took, those taken while L1 ran and while L2 ran, and the
 * shadow fills among the latter.  Printed once L2 ran.
 */
static ssize_t exits_per_run(char *buf, ssize_t n)
{
	u64 runs = sum(offsetof(struct hv_cpu_stats, l2_runs));
	s64 all = exit_sum("vm_exits"), l2 = exit_sum("l2_exits");

	if (l2 < 0)
		l2 = exit_sum("l2_exit");
	if (!runs || all < 0 || l2 < 0 || l2 > all)
		return n;
	n += emit_per_run(buf, n, "exits_per_l2_run", all, runs);
	n += emit_per_run(buf, n, "l1_exits_per_l2_run", all - l2, runs);
	n += emit_per_run(buf, n, "l2_exits_per_l2_run", l2, runs);
	n += emit_per_run(buf, n, "shadow_fills_per_l2_run",
			  sum(offsetof(struct hv_cpu_stats, shadow_fills)), runs);
	return n;
}

static ssize_t exits_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	ssize_t n = 0;
	int i;

	for (i = 0; hv_exit_names[i]; i++)
		n += sysfs_emit_at(buf, n, "%s %llu\n", hv_exit_names[i],
				   sum(offsetof(struct hv_cpu_stats, exits[i])));
	n += sysfs_emit_at(buf, n, "l2_runs %llu\nshadow_fills %llu\nshadow_resets %llu\nvmcs_shadow_loads %llu\nshadow_ahead %llu\n",
			   sum(offsetof(struct hv_cpu_stats, l2_runs)),
			   sum(offsetof(struct hv_cpu_stats, shadow_fills)),
			   sum(offsetof(struct hv_cpu_stats, shadow_resets)),
			   sum(offsetof(struct hv_cpu_stats, svmcs_loads)),
			   sum(offsetof(struct hv_cpu_stats, shadow_ahead)));
	/* What L1's nested page faults on its GDT were (part of npf / ept_violation). */
	n += sysfs_emit_at(buf, n, "gdt_tss_type %llu\ngdt_ltr %llu\ngdt_tls %llu\ngdt_tls_follow %llu\n",
			   sum(offsetof(struct hv_cpu_stats, gdt_tss_type)),
			   sum(offsetof(struct hv_cpu_stats, gdt_ltr)),
			   sum(offsetof(struct hv_cpu_stats, gdt_tls)),
			   sum(offsetof(struct hv_cpu_stats, gdt_tls_follow)));
	return exits_per_run(buf, n);
}

static ssize_t violations_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	ssize_t n = 0;
	int i;

	for (i = 0; i < HV_V_NR; i++)
		n += sysfs_emit_at(buf, n, "%s %llu\n", hv_violation_names[i],
				   sum(offsetof(struct hv_cpu_stats, violations[i])));
	return n;
}

static ssize_t protected_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	ssize_t n = 0;
	unsigned int i;

	for (i = 0; i < hv_nr_ranges && n < PAGE_SIZE - 64; i++)
		n += sysfs_emit_at(buf, n, "%-8s %#012llx-%#012llx %s\n",
				   hv_prot_names[hv_ranges_copy[i].kind], hv_ranges_copy[i].start,
				   hv_ranges_copy[i].end - 1,
				   hv_ranges_copy[i].kind == HV_PROT_HIDDEN ? "none" : "r-x");
	return n;
}

static ssize_t policy_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	return sysfs_emit(buf, "protect_kernel=%d lock_tables=%d pin_cr=%d pin_msrs=%d nested=%d text_poke=%d allow_unload=%d\n",
			  hv_pol.protect_kernel, hv_pol.lock_tables, hv_pol.pin_cr, hv_pol.pin_msrs,
			  hv_pol.nested, hv_pol.text_poke, hv_pol.allow_unload);
}

static struct kobj_attribute hv_attrs[] = {
	__ATTR_RO(state), __ATTR_RO(exits), __ATTR_RO(violations), __ATTR_RO(protected),
	__ATTR_RO(policy),
};
static struct attribute *hv_attr_list[] = {
	&hv_attrs[0].attr, &hv_attrs[1].attr, &hv_attrs[2].attr, &hv_attrs[3].attr,
	&hv_attrs[4].attr, NULL,
};
static const struct attribute_group hv_group = { .attrs = hv_attr_list };

int hv_sysfs_init(struct hv *hv)
{
	unsigned int i, n = 0;
	int ret;

	hv_sh = hv->shared;
	hv_exit_names = hv->ops->exit_names;
	hv_hc_vmcall = hv->ops->hc_vmcall;
	hv_pol = hv->pol;
	/* The arena blocks are listed as "hidden" ranges here, for display. */
	hv_ranges_copy = kcalloc(hv->nr_ranges + hv->arena.nr, sizeof(*hv_ranges_copy), GFP_KERNEL);
	if (!hv_ranges_copy)
		return -ENOMEM;
	for (i = 0; i < hv->arena.nr; i++)
		hv_ranges_copy[n++] = (struct hv_range){ hv->arena.pa[i],
			hv->arena.pa[i] + (PAGE_SIZE << HV_ARENA_ORDER), HV_PROT_HIDDEN };
	for (i = 0; i < hv->nr_ranges; i++)
		hv_ranges_copy[n++] = hv->ranges[i];
	hv_nr_ranges = n;
	hv_kobj = kobject_create_and_add("hyperbox", kernel_kobj);
	if (!hv_kobj)
		goto nomem;
	ret = sysfs_create_group(hv_kobj, &hv_group);
	if (ret) {
		kobject_put(hv_kobj);
		kfree(hv_ranges_copy);
		return ret;
	}
	if (hv_monitor_l1_init(hv_kobj, hv_hc_vmcall))
		pr_warn(HV_NAME ": monitor: no /dev/hyperbox or status file\n");
	return 0;
nomem:
	kfree(hv_ranges_copy);
	return -ENOMEM;
}

void hv_sysfs_exit(void)
{
	hv_monitor_l1_exit();
	sysfs_remove_group(hv_kobj, &hv_group);
	kobject_put(hv_kobj);
	kfree(hv_ranges_copy);
}

/* The host cannot printk (it may have interrupted printk); L1 prints its log. */
static void hv_log_drain(struct work_struct *w);
static DECLARE_DELAYED_WORK(hv_log_work, hv_log_drain);

static void hv_log_drain(struct work_struct *w)
{
	u64 head = READ_ONCE(hv_sh->log_head);

	if (head - hv_log_seen > HV_LOG_SIZE)
		hv_log_seen = head - HV_LOG_SIZE;
	while (hv_log_seen < head) {
		const struct hv_log_entry *e = &hv_sh->log[++hv_log_seen % HV_LOG_SIZE];
		struct hv_log_entry copy = *e;

		smp_rmb();
		if (READ_ONCE(e->seq) != hv_log_seen || copy.seq != hv_log_seen)
			continue;
		if (copy.what < HV_V_NR)
			pr_warn(HV_NAME ": cpu%u %s %s at rip=%#llx addr=%#llx value=%#llx\n",
				copy.cpu, copy.what == HV_V_TEXT_POKE_OK ? "allowed" : "denied",
				hv_violation_names[copy.what], copy.rip, copy.addr, copy.value);
		else if (copy.what == HV_V_NR + 1)
			pr_warn(HV_NAME ": cpu%u nested VMRUN of VMCB %#llx: the CPU refused the L2 control block (VMEXIT_INVALID), given to L1\n",
				copy.cpu, copy.addr);
		else
			pr_warn(HV_NAME ": cpu%u unexpected nested page fault at rip=%#llx gpa=%#llx err=%#llx\n",
				copy.cpu, copy.rip, copy.addr, copy.value);
	}
	schedule_delayed_work(&hv_log_work, HZ / 10);
}

void hv_log_drain_start(void)
{
	schedule_delayed_work(&hv_log_work, 0);
}

void hv_log_drain_stop(void)
{
	cancel_delayed_work_sync(&hv_log_work);
	hv_log_drain(NULL);
	cancel_delayed_work_sync(&hv_log_work);
}
