// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hyper-box core: load-time checks, named init steps with unwinding in
 * reverse, launch on every CPU (all or none), CPU hotplug, unload.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/smp.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/ioport.h>
#include "hyperbox.h"
#include "monitor.h"

static bool protect_kernel = true;
module_param(protect_kernel, bool, 0444);
MODULE_PARM_DESC(protect_kernel, "Kernel text, rodata and exception table read-only in the NPT");
static bool lock_tables = true;
module_param(lock_tables, bool, 0444);
MODULE_PARM_DESC(lock_tables, "IDT and GDT pages read-only in the NPT");
static bool pin_cr = true;
module_param(pin_cr, bool, 0444);
MODULE_PARM_DESC(pin_cr, "Pin CR0.WP, CR4.SMEP, CR4.SMAP (CR writes intercepted)");
static bool pin_msrs = true;
module_param(pin_msrs, bool, 0444);
MODULE_PARM_DESC(pin_msrs, "Pin STAR/LSTAR/CSTAR/SFMASK (EFER.SVME is always kept on)");
static bool nested = true;
module_param(nested, bool, 0444);
MODULE_PARM_DESC(nested, "Expose SVM to the kernel so that kvm_amd can run guests (validated)");
static bool text_poke = true;
module_param(text_poke, bool, 0444);
MODULE_PARM_DESC(text_poke, "Let text_poke() patch kernel text through the verified path");
static bool allow_unload;
module_param(allow_unload, bool, 0444);
MODULE_PARM_DESC(allow_unload, "Allow rmmod (leaves Ring -1 on every CPU); default: refuse");
/*
 * The all-or-none launch has a rollback path that real machines rarely
 * take (a CPU whose launch fails after the others succeeded).  Tests name a
 * CPU here to take it on purpose; the load must then fail cleanly.
 */
static int fail_launch_on_cpu = -1;
module_param(fail_launch_on_cpu, int, 0444);
MODULE_PARM_DESC(fail_launch_on_cpu, "Testing: do not launch on this CPU at load, so that the launch is rolled back (-1: off)");

struct hv *hv_global;		/* arena: only touched before launch and after leaving */
static const struct hv_vendor_ops *hv_ops;
static cpumask_t hv_launched;
static int hv_cpuhp = -1;
static bool hv_pinned;
static DEFINE_PER_CPU(struct hv_cpu *, hv_cpu_ptr);	/* opaque to L1: never dereferenced by it */

/*
 * Everything below 4 GiB (MMIO, APIC) plus all RAM; 0 if max_pfn is unknown.
 * The NPT maps device memory above it too, up to the CPU's physical width.
 */
static u64 hv_phys_top(void)
{
	unsigned long *max_pfn = (unsigned long *)hv_sym("max_pfn");

	if (!max_pfn)
		return 0;
	return max_t(u64, (u64)*max_pfn << PAGE_SHIFT, 4ULL << 30);
}

static void hv_launch_one(void *info)
{
	if (!hv_ops->launch(info))
		cpumask_set_cpu(smp_processor_id(), &hv_launched);
}

static void hv_launch_one_self(void *unused)
{
	if (smp_processor_id() == fail_launch_on_cpu)
		return;
	hv_launch_one(this_cpu_read(hv_cpu_ptr));
}

static void hv_devirt_one(void *unused)
{
	if (cpumask_test_cpu(smp_processor_id(), &hv_launched) && !hv_ops->devirt())
		cpumask_clear_cpu(smp_processor_id(), &hv_launched);
}

static int hv_cpu_online(unsigned int cpu)
{
	struct hv_cpu *c = per_cpu(hv_cpu_ptr, cpu);

	if (!c)
		return -ENODEV;
	local_irq_disable();
	hv_launch_one(c);
	local_irq_enable();
	if (!cpumask_test_cpu(cpu, &hv_launched)) {
		pr_err(HV_NAME ": CPU %u came online but could not be launched\n", cpu);
		return -EIO;
	}
	return 0;
}

static int hv_cpu_offline(unsigned int cpu)
{
	pr_warn(HV_NAME ": refusing to take CPU %u offline while Hyper-box runs\n", cpu);
	return -EBUSY;
}

bool hv_cpu_is_launched(int cpu)
{
	return cpumask_test_cpu(cpu, &hv_launched);
}

static void hv_free(struct hv *hv)
{
	struct hv_arena arena = hv->arena;
	struct hv_shared *shared = hv->shared;
	size_t shared_size = hv->shared_size;

	hv_arena_free_all(&arena);	/* hv itself lives in the arena */
	if (shared)
		free_pages_exact(shared, shared_size);
}

/* Before launch: everything that can fail, so that launching cannot half-fail. */
static int hv_prepare(struct hv **out)
{
	struct hv_arena arena = {};
	struct hv *hv;
	int cpu, ret;

	hv = hv_arena_alloc(&arena, sizeof(*hv), NULL);
	if (!hv)
		return -ENOMEM;
	hv->arena = arena;
	hv->ops = hv_ops;
	hv->pol = (struct hv_policy){
		.protect_kernel = protect_kernel, .lock_tables = lock_tables, .pin_cr = pin_cr,
		.pin_msrs = pin_msrs, .nested = nested, .text_poke = text_poke,
		.allow_unload = allow_unload,
	};
	hv->shared_size = PAGE_ALIGN(sizeof(struct hv_shared) +
				     nr_cpu_ids * sizeof(struct hv_cpu_stats));
	hv->shared = alloc_pages_exact(hv->shared_size, GFP_KERNEL | __GFP_ZERO);
	ret = -ENOMEM;
	if (!hv->shared)
		goto fail;
	hv->shared_pa = __pa(hv->shared);
	for_each_possible_cpu(cpu) {
		struct hv_cpu *c = hv_ops->cpu_setup(hv, cpu);

		if (IS_ERR(c)) {
			ret = PTR_ERR(c);
			pr_err(HV_NAME ": refusing to load: per-CPU setup failed for CPU %d (%d)\n", cpu, ret);
			goto fail;
		}
		c->stats = &hv->shared->cpu[cpu];
		hv->cpus[cpu] = c;
		per_cpu(hv_cpu_ptr, cpu) = c;
	}
	ret = hv_phys_top() ? hv_npt_build(hv, hv_phys_top(), 1ULL << boot_cpu_data.x86_phys_bits) : -ENOENT;
	if (!ret)
		ret = hv_monitor_prepare(hv);
	if (!ret)
		ret = hv_protect_collect(hv);
	if (!ret)
		ret = hv_hostpt_build(hv);
	if (!ret)
		ret = hv_protect_apply(hv);
	if (ret) {
		/* -ENOENT: a missing symbol, already named in its own refusal line */
		if (ret != -ENOENT)
			pr_err(HV_NAME ": refusing to load: building page tables failed (%d)\n", ret);
		goto fail;
	}
	*out = hv;
	return 0;
fail:
	for_each_possible_cpu(cpu)
		per_cpu(hv_cpu_ptr, cpu) = NULL;
	hv_free(hv);
	return ret;
}

static int __init hv_init(void)
{
	struct hv *hv;
	int ret;

	/* Intel (and CPUs that only have VT-x) take the VT-x backend; the probe names what is missing. */
	hv_ops = boot_cpu_data.x86_vendor == X86_VENDOR_INTEL ? &hv_vmx_ops : &hv_svm_ops;
	ret = hv_ops->probe();
	if (ret)
		return ret;
	ret = hv_symbols_init();
	if (ret)
		return ret;
	ret = hv_prepare(&hv);
	if (ret)
		return ret;
	ret = hv_sysfs_init(hv);	/* copies what it shows; never reads the arena later */
	if (ret)
		goto fail_free;

	cpus_read_lock();
	on_each_cpu(hv_launch_one_self, NULL, 1);
	if (!cpumask_equal(&hv_launched, cpu_online_mask)) {
		pr_err(HV_NAME ": refusing to load: launched on CPU(s) %*pbl of %*pbl only; rolled back\n",
		       cpumask_pr_args(&hv_launched), cpumask_pr_args(cpu_online_mask));
		on_each_cpu(hv_devirt_one, NULL, 1);
		cpus_read_unlock();
		ret = -EIO;
		goto fail_sysfs;
	}
	ret = cpuhp_setup_state_nocalls_cpuslocked(CPUHP_AP_ONLINE_DYN, "hyperbox:online",
						    hv_cpu_online, hv_cpu_offline);
	cpus_read_unlock();
	if (ret < 0)
		pr_warn(HV_NAME ": no CPU hotplug callbacks (%d): CPUs brought online later run unprotected\n", ret);
	else
		hv_cpuhp = ret;
	hv_global = hv;
	if (!allow_unload) {
		__module_get(THIS_MODULE);	/* rmmod: "in use" */
		hv_pinned = true;
	}
	hv_log_drain_start();
	pr_info(HV_NAME ": Ring -1 active on %u CPU(s) (%s), nested paging on, Hyper-box memory hidden\n",
		cpumask_weight(&hv_launched), hv_ops->name);
	return 0;

fail_sysfs:
	hv_sysfs_exit();
fail_free:
	hv_free(hv);
	return ret;
}

static void __exit hv_exit(void)
{
	hv_log_drain_stop();
	if (hv_cpuhp >= 0)
		/* _nocalls: the teardown callback refuses (-EBUSY), which the core BUG()s on */
		cpuhp_remove_state_nocalls(hv_cpuhp);
	cpus_read_lock();
	on_each_cpu(hv_devirt_one, NULL, 1);
	cpus_read_unlock();
	if (!cpumask_empty(&hv_launched)) {
		/* Cannot happen unless a CPU refused to leave; keep the memory, it is still in use. */
		pr_err(HV_NAME ": CPU(s) %*pbl still in Ring -1; leaking Hyper-box memory\n",
		       cpumask_pr_args(&hv_launched));
		hv_sysfs_exit();
		return;
	}
	hv_sysfs_exit();
	hv_free(hv_global);
	pr_info(HV_NAME ": left Ring -1 on every CPU; unloaded\n");
}

module_init(hv_init);
module_exit(hv_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hyper-box: Ring -1 protection for the running kernel and KVM (AMD-V)");
