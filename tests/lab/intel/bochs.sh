# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/lab/intel/bochs.sh: the VT-x lab's boot, sourced by tests/lab/run
# for --vendor intel.  Bochs has no -kernel option, so the kernel and the
# initramfs go on a GRUB rescue ISO; both serial ports are files (com1 the
# console, streamed to stdout while Bochs runs; com2 the status channel,
# ttyS1 in the lab as in the AMD-V lab).
#
# Needs from run: die, note, $work, $kernel, $initrd, $append, $memory,
# $cpus, $status_file.  Sets bochs_cmd (array) and console_file.

bochs_need() {
    need_pkg bochs bochs
    need_pkg grub-mkrescue grub-common
    need_pkg xorriso xorriso
    need_pkg mformat mtools
    [[ -d /usr/lib/grub/i386-pc ]] || die "no BIOS GRUB: install the Debian package grub-pc-bin (apt-get install grub-pc-bin)"
    [[ -r /usr/share/bochs/BIOS-bochs-latest ]] || die "no Bochs BIOS: install the Debian package bochsbios (apt-get install bochsbios)"
    [[ -r /usr/share/vgabios/vgabios.bin ]] || die "no VGA BIOS: install the Debian package vgabios (apt-get install vgabios)"
    [[ -r /usr/lib/x86_64-linux-gnu/bochs/plugins/libbx_rfb_gui.so ]] ||
        die "Bochs has no rfb display plugin: reinstall the Debian package bochs"
}

# CPU model: Skylake-X has VMX with EPT, unrestricted guest, VPID, shadow
# VMCS (see ../shared/docs/environment.md).  ALCATRAZ_LAB_BOCHS_CPU picks
# another model for the refusal tests (core2_penryn_t9600: VMX without EPT;
# p4_prescott_celeron_336: 64-bit without VMX); `bochs -help cpu` lists them.
bochs_prepare() {
    local iso_root=$work/iso cpu_model=${ALCATRAZ_LAB_BOCHS_CPU:-corei7_skylake_x}
    local models
    models=$(bochs -help cpu 2>&1 | tr -d '\r')
    [[ $cpu_model =~ ^[a-z0-9_]+$ && $'\n'$models$'\n' == *$'\n'$cpu_model$'\n'* ]] ||
        die "ALCATRAZ_LAB_BOCHS_CPU: not one of Bochs's CPU models (bochs -help cpu): $cpu_model"
    mkdir -p "$iso_root/boot/grub" || die "cannot create $iso_root"
    cp -- "$kernel" "$iso_root/boot/vmlinuz" || die "cannot copy $kernel"
    mv -- "$initrd" "$iso_root/boot/initrd" || die "cannot move the initramfs"
    cat > "$iso_root/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry lab {
    linux /boot/vmlinuz $append
    initrd /boot/initrd
}
EOF
    grub-mkrescue -o "$work/lab.iso" "$iso_root" > "$work/grub-mkrescue.log" 2>&1 ||
        { cat "$work/grub-mkrescue.log" >&2; die "grub-mkrescue failed"; }
    rm -rf -- "$iso_root"
    console_file=$work/console
    : > "$console_file"
    # panic: action=fatal ends Bochs on an emulator panic (e.g. a triple
    # fault with reset_on_triple_fault=0) instead of waiting for a debugger.
    cat > "$work/bochsrc" <<EOF
megs: $memory
cpu: model=$cpu_model, count=$cpus, ips=100000000, reset_on_triple_fault=0, ignore_bad_msrs=1
clock: sync=none, time0=local
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
pci: enabled=1, chipset=i440fx
ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14
ata0-master: type=cdrom, path="$work/lab.iso", status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev="$console_file"
com2: enabled=1, mode=file, dev="$status_file"
display_library: rfb, options="timeout=0"
mouse: enabled=0
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
EOF
    # Debian's bochs has its debugger built in: "c" continues at once.
    echo c > "$work/bochs.rc"
    # MALLOC_PERTURB_ (set by meson test) makes Debian's bochs 2.7 abort at start.
    bochs_cmd=(env -u MALLOC_PERTURB_ bochs -q -f "$work/bochsrc" -rc "$work/bochs.rc")
}

# Whether the emulator itself failed (as opposed to the guest powering off).
bochs_failure() {
    tail -n 3 "$work/bochs.out" 2>/dev/null | tr -d '\r' | grep -v '^$'
    grep -E '^[0-9]+[ep]\[' "$work/bochs.log" 2>/dev/null | grep -v -E 'WRMSR|RDMSR|unsupported|ignored' | tail -n 3
}
