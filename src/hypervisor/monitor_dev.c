// SPDX-License-Identifier: GPL-2.0-only
/*
 * Escape monitor, L1 side: the policy parameters, /dev/hyperbox (VMM
 * registration), /sys/kernel/hyperbox/monitor/status, the log drain, and
 * the two functions refused paths return through.
 *
 * Nothing here is trusted by the host except at registration time: the
 * checks below run in the kernel before any guest code of the registering
 * VMM has run, which is when the kernel is still trustworthy.
 */
#include <linux/fdtable.h>
#include <linux/fs.h>
#include <linux/kobject.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>
#include "monitor.h"
#include "monitor_abi.h"

/*
 * Read at load only (0444): the policy lives in Hyper-box memory, so a
 * change while VMs run is refused by construction; unloading needs
 * allow_unload=1 and takes the whole monitor away at once.
 */
int hv_mon_mode_param = HV_MON_ENFORCE;
module_param_named(monitor, hv_mon_mode_param, int, 0444);
MODULE_PARM_DESC(monitor, "Escape monitor: 0 off, 1 log only, 2 enforce (default)");
unsigned int hv_mon_watch_param = (1U << HV_BP_NR) - 1;
module_param_named(monitor_watch, hv_mon_watch_param, uint, 0444);
MODULE_PARM_DESC(monitor_watch, "Watched paths, one bit each: 1 commit_creds, 2 kernel_clone, 4 cap_capable, 8 usermode helper (default 15)");
bool hv_mon_compat32_param = true;
module_param_named(monitor_compat32, hv_mon_compat32_param, bool, 0444);
MODULE_PARM_DESC(monitor_compat32, "Refuse the 32-bit system call entries int 0x80, SYSCALL and SYSENTER (SIGSEGV)");

static struct hv_mon_shared *hv_mon_sh;
static struct kobject *hv_mon_kobj;
static bool hv_mon_misc_ok;
static u64 hv_mon_log_seen;
static atomic_t hv_mon_refused = ATOMIC_INIT(0);

/* Allocated before launch; freed by hv_monitor_l1_exit (after leaving Ring -1). */
struct hv_mon_shared *hv_mon_shared_l1(void)
{
	if (!hv_mon_sh)
		hv_mon_sh = alloc_pages_exact(PAGE_ALIGN(sizeof(*hv_mon_sh)), GFP_KERNEL | __GFP_ZERO);
	return hv_mon_sh;
}

/*
 * The host moves RIP here instead of running a watched function; the
 * caller sees that function fail with -EPERM.  refuse_kill also kills the
 * task (delivered on its way back to user space, before it runs anything).
 */
noinline long hv_mon_refuse(long act)
{
	return -EPERM;
}

noinline long hv_mon_refuse_kill(long act)
{
	force_sig(SIGKILL);
	return -EPERM;
}

/* ---- /dev/hyperbox ---- */

static int hv_mon_is_kvm_vm(const void *unused, struct file *f, unsigned int fd)
{
	return f->f_path.dentry && !strncmp(f->f_path.dentry->d_name.name, "kvm-", 4);
}

static bool hv_mon_hc_vmcall;

static long hv_mon_vmmcall(u64 fn, u64 arg)
{
	u64 rax = HV_HC_MAGIC;

	if (hv_mon_hc_vmcall)
		asm volatile("vmcall" : "+a"(rax) : "b"(fn), "c"(arg) : "memory");
	else
		asm volatile("vmmcall" : "+a"(rax) : "b"(fn), "c"(arg) : "memory");
	return rax;
}

static long hv_mon_register_self(void)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	const char *why = NULL;
	long ret;

	if (hv_mon_mode_param == HV_MON_OFF || !hv_mon_sh)
		return -ENODEV;
	if (!thread_group_leader(current) || get_nr_threads(current) != 1)
		why = "not single-threaded";
	else if (ns == &init_pid_ns || task_pid_nr_ns(current, ns) != 1)
		why = "not PID 1 of its own PID namespace";
	else if (current->files && iterate_fd(current->files, 0, hv_mon_is_kvm_vm, NULL))
		why = "it already holds a KVM VM (its guest may have run)";
	if (why) {
		atomic_inc(&hv_mon_refused);
		pr_warn(HV_NAME ": monitor: refused VMM registration from pid %d (%s): %s\n",
			task_pid_nr(current), current->comm, why);
		return -EPERM;
	}
	preempt_disable();
	ret = hv_cpu_is_launched(smp_processor_id()) ?
	      hv_mon_vmmcall(HV_HC_MON_REGISTER, (u64)current) : -ENODEV;
	preempt_enable();
	if (ret) {
		atomic_inc(&hv_mon_refused);
		pr_warn(HV_NAME ": monitor: VMM registration of pid %d (%s) failed: %ld\n",
			task_pid_nr(current), current->comm, ret);
		return ret;
	}
	pr_info(HV_NAME ": monitor: registered VMM pid %d (%s): %s\n", task_pid_nr(current),
		current->comm, hv_mon_mode_param == HV_MON_ENFORCE ? "enforcing" : "logging only");
	return 0;
}

static long hv_mon_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct hyperbox_register r;
	unsigned int i;
	long ret;

	if (cmd != HYPERBOX_IOC_REGISTER_SELF)
		return -ENOTTY;
	if (copy_from_user(&r, (void __user *)arg, sizeof(r)))
		return -EFAULT;
	if (r.size != sizeof(r) || r.flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(r.reserved); i++)
		if (r.reserved[i])
			return -EINVAL;
	ret = hv_mon_register_self();
	if (ret)
		return ret;
	r.mode = hv_mon_mode_param;
	return copy_to_user((void __user *)arg, &r, sizeof(r)) ? -EFAULT : 0;
}

static const struct file_operations hv_mon_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = hv_mon_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice hv_mon_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "hyperbox",
	.fops = &hv_mon_fops,
	.mode = 0666,		/* registration only ever restricts the caller itself */
};

/* ---- status ---- */

static ssize_t status_show(struct kobject *k, struct kobj_attribute *a, char *buf)
{
	static const char *const bp[HV_BP_NR] = { "commit_creds", "kernel_clone", "cap_capable", "umh" };
	ssize_t n;
	int i;

	n = sysfs_emit(buf, "mode %s\ncompat32 %s\nregistered %llu\nregister_refused %d\n",
		       hv_mon_mode_param == HV_MON_ENFORCE ? "enforce" : "log",
		       !hv_mon_compat32_param ? "allowed" :
		       hv_mon_mode_param == HV_MON_ENFORCE ? "refused" : "watched",
		       READ_ONCE(hv_mon_sh->registered_live), atomic_read(&hv_mon_refused));
	for (i = 0; i < HV_ACT_NR; i++)
		n += sysfs_emit_at(buf, n, "%s %llu\n", hv_mon_act_names[i], READ_ONCE(hv_mon_sh->acts[i]));
	for (i = 0; i < HV_BP_NR; i++)
		n += sysfs_emit_at(buf, n, "hits_%s %llu\n", bp[i], READ_ONCE(hv_mon_sh->bp_hits[i]));
	n += sysfs_emit_at(buf, n, "checks %llu\ndb_reflected %llu\nint_refetched %llu\n",
			   READ_ONCE(hv_mon_sh->checks), READ_ONCE(hv_mon_sh->db_reflected),
			   READ_ONCE(hv_mon_sh->int_refetched));
	return n;
}

static struct kobj_attribute hv_mon_status_attr = __ATTR_RO(status);

/* ---- log: the host cannot printk; this prints what it recorded ---- */

static void hv_mon_print(const struct hv_mon_log_entry *e)
{
	const char *what = e->act == HV_ACT_REGISTER ? "noted" :
			   !e->enforced ? "logged (not enforced)" :
			   e->act == HV_ACT_UMH ? "refused" :
			   e->act == HV_ACT_INT80 || e->act == HV_ACT_SYSCALL32 ||
			   e->act == HV_ACT_SYSENTER ? "refused with SIGSEGV" :
			   "refused, task killed";

	switch (e->act) {
	case HV_ACT_SPAWN:
		pr_warn(HV_NAME ": monitor: %s: registered VMM pid %u tgid %u (%.16s) creates a process (clone flags %#llx)\n",
			what, e->pid, e->tgid, e->comm, e->ev1);
		break;
	case HV_ACT_EXEC:
		pr_warn(HV_NAME ": monitor: %s: registered VMM pid %u tgid %u (%.16s) executes a program (commit_creds from %pS)\n",
			what, e->pid, e->tgid, e->comm, (void *)e->ev1);
		break;
	case HV_ACT_CRED_GAIN:
		pr_warn(HV_NAME ": monitor: %s: registered VMM pid %u tgid %u (%.16s) gains credentials: uid %u euid %u -> uid %u euid %u\n",
			what, e->pid, e->tgid, e->comm, e->uid, e->euid, (u32)e->ev1, (u32)(e->ev1 >> 32));
		break;
	case HV_ACT_CRED_PATH:
		pr_warn(HV_NAME ": monitor: %s: pid %u (%.16s) uid %u commits credentials outside the legitimate paths (caller %pS, syscall %lld)\n",
			what, e->pid, e->comm, e->uid, (void *)e->ev1, (s64)e->ev2);
		break;
	case HV_ACT_CRED_TAMPER:
		pr_warn(HV_NAME ": monitor: %s: pid %u (%.16s) credentials changed without commit_creds: now uid %u euid %u; evidence %#llx -> %#llx\n",
			what, e->pid, e->comm, e->uid, e->euid, e->ev1, e->ev2);
		break;
	case HV_ACT_UMH:
		pr_warn(HV_NAME ": monitor: %s: usermode helper from registered VMM pid %u tgid %u (%.16s) kernel context (subprocess_info %#llx)\n",
			what, e->pid, e->tgid, e->comm, e->ev1);
		break;
	case HV_ACT_SYSCALL32:
		pr_warn(HV_NAME ": monitor: %s: pid %u (%.16s) uid %u used the 32-bit SYSCALL entry (eax %llu) before %#llx\n",
			what, e->pid, e->comm, e->uid, e->ev1 & 0xffffffff, e->ev2 & 0xffffffff);
		break;
	case HV_ACT_SYSENTER:
		pr_warn(HV_NAME ": monitor: %s: pid %u (%.16s) uid %u used SYSENTER (eax %llu) with stack %#llx\n",
			what, e->pid, e->comm, e->uid, e->ev1 & 0xffffffff, e->ev2 & 0xffffffff);
		break;
	case HV_ACT_INT80:
		pr_warn(HV_NAME ": monitor: %s: pid %u (%.16s) uid %u used int 0x80 (eax %llu) at %#llx\n",
			what, e->pid, e->comm, e->uid, e->ev1 & 0xffffffff, e->ev2);
		break;
	default:
		pr_info(HV_NAME ": monitor: host %s registration of pid %u (%.16s)\n", what, e->pid, e->comm);
	}
}

static void hv_mon_drain(struct work_struct *w);
static DECLARE_DELAYED_WORK(hv_mon_work, hv_mon_drain);

static void hv_mon_drain(struct work_struct *w)
{
	u64 head = READ_ONCE(hv_mon_sh->log_head);

	if (head - hv_mon_log_seen > HV_MON_LOG_SIZE)
		hv_mon_log_seen = head - HV_MON_LOG_SIZE;
	while (hv_mon_log_seen < head) {
		const struct hv_mon_log_entry *e = &hv_mon_sh->log[++hv_mon_log_seen % HV_MON_LOG_SIZE];
		struct hv_mon_log_entry copy = *e;

		smp_rmb();
		if (READ_ONCE(e->seq) == hv_mon_log_seen && copy.seq == hv_mon_log_seen &&
		    copy.act < HV_ACT_NR)
			hv_mon_print(&copy);
	}
	if (w)
		schedule_delayed_work(&hv_mon_work, HZ / 10);
}

int hv_monitor_l1_init(struct kobject *parent, bool hc_vmcall)
{
	hv_mon_hc_vmcall = hc_vmcall;
	int ret;

	if (!hv_mon_sh || hv_mon_mode_param == HV_MON_OFF)
		return 0;
	hv_mon_kobj = kobject_create_and_add("monitor", parent);
	if (!hv_mon_kobj)
		return -ENOMEM;
	ret = sysfs_create_file(hv_mon_kobj, &hv_mon_status_attr.attr);
	if (ret)
		goto fail;
	ret = misc_register(&hv_mon_misc);
	if (ret)
		goto fail;
	hv_mon_misc_ok = true;
	schedule_delayed_work(&hv_mon_work, HZ / 10);
	return 0;
fail:
	kobject_put(hv_mon_kobj);
	hv_mon_kobj = NULL;
	return ret;
}

void hv_monitor_l1_exit(void)
{
	if (hv_mon_misc_ok)
		misc_deregister(&hv_mon_misc);
	hv_mon_misc_ok = false;
	if (hv_mon_kobj) {
		cancel_delayed_work_sync(&hv_mon_work);
		hv_mon_drain(NULL);
		kobject_put(hv_mon_kobj);
		hv_mon_kobj = NULL;
	}
}
