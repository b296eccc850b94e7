#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of every fuzz target: valid inputs in each
target's format (see the comment at the top of each fuzz_*.c), so the
fuzzers start from requests the code accepts. Crash inputs kept as
regressions live beside them as crash-*; this script leaves those alone.

    tests/fuzz/gen_corpus.py [CORPUS_DIR]   (default: tests/fuzz/corpus)
"""
import os
import struct
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")

F_NEXT, F_WRITE = 1, 2
CTL_MAGIC = 0x31434C41


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def desc(addr, length, flags, nxt):
    return struct.pack("<QIHH", addr, length, flags, nxt)


class Mem:
    def __init__(self, size):
        self.b = bytearray(size)

    def put(self, at, data):
        self.b[at:at + len(data)] = data


def ctl(rtype, payload=b""):
    return struct.pack("<III", CTL_MAGIC, rtype, len(payload)) + payload


def vsock_hdr(op, length=0, src_port=1025, dst_port=1024, buf_alloc=65536, fwd_cnt=0,
              src_cid=3, dst_cid=2, vtype=1):
    return struct.pack("<QQIIIHHIII", src_cid, dst_cid, src_port, dst_port, length, vtype, op,
                       0, buf_alloc, fwd_cnt)


# ------------------------------------------------------------------ virtq
# Queue q: 4 entries, descriptors at 0x100 + 0x100 q, avail 0x400 + 0x40 q,
# used 0x600 + 0x80 q; buffers from 0x800.
def virtq_seed(dev, chains):
    """chains: {queue: [(addr, len, flags)...] per chain, ...}"""
    hdr = bytes([dev | 0x10])  # two rounds of notifications
    for q in range(3):
        hdr += struct.pack("<BHHH", 2, 0x100 + 0x100 * q, 0x400 + 0x40 * q, 0x600 + 0x80 * q)
    m = Mem(0x1000)
    for q, qchains in chains.items():
        di = 0
        heads = []
        for chain in qchains:
            heads.append(di)
            for k, (addr, length, flags) in enumerate(chain):
                last = k == len(chain) - 1
                m.put(0x100 + 0x100 * q + 16 * di,
                      desc(addr, length, flags | (0 if last else F_NEXT), 0 if last else di + 1))
                di += 1
        avail = struct.pack("<HH", 0, len(heads)) + b"".join(struct.pack("<H", h) for h in heads)
        m.put(0x400 + 0x40 * q, avail)
    return hdr, m


def virtq_seeds():
    blk_hdr = lambda t, sector: struct.pack("<IIQ", t, 0, sector)
    # blk: read 1 sector, write 1 sector, flush, get id
    for dev, name in ((0, "blk"), (1, "blk-ro")):
        hdr, m = virtq_seed(dev, {0: [
            [(0x800, 16, 0), (0xa00, 512, F_WRITE), (0x900, 1, F_WRITE)],
            [(0x810, 16, 0), (0xa00, 512, 0), (0x901, 1, F_WRITE)],
            [(0x820, 16, 0), (0x902, 1, F_WRITE)],
        ]})
        m.put(0x800, blk_hdr(0, 1))
        m.put(0x810, blk_hdr(1, 2))
        m.put(0x820, blk_hdr(4, 0))
        write("virtq", name + "-rw-flush", hdr + bytes(m.b))
        hdr, m = virtq_seed(dev, {0: [[(0x800, 16, 0), (0xa00, 20, F_WRITE), (0x900, 1, F_WRITE)]]})
        m.put(0x800, blk_hdr(8, 0))
        write("virtq", name + "-get-id", hdr + bytes(m.b))
    hdr, m = virtq_seed(2, {0: [[(0x800, 64, F_WRITE)], [(0x900, 16, F_WRITE), (0x980, 16, F_WRITE)]]})
    write("virtq", "rng", hdr + bytes(m.b))
    hdr, m = virtq_seed(3, {0: [[(0x900, 64, F_WRITE)]], 1: [[(0x800, 6, 0)], [(0x810, 3, 0), (0x820, 2, 0)]]})
    m.put(0x800, b"hello\n")
    m.put(0x810, b"abc")
    m.put(0x820, b"de")
    write("virtq", "console", hdr + bytes(m.b))
    hdr, m = virtq_seed(4, {0: [[(0x900, 256, F_WRITE)], [(0xa00, 256, F_WRITE)]],
                            1: [[(0x800, 44, 0)], [(0x840, 44, 0), (0x880, 28, 0)]]})
    m.put(0x800, vsock_hdr(1))
    m.put(0x840, vsock_hdr(5, 28))
    m.put(0x880, ctl(16, struct.pack("<IIQ", 1, 0, 0)))
    write("virtq", "vsock-connect-event", hdr + bytes(m.b))


# ------------------------------------------------------------------- mmio
def mmio_seeds():
    def w(off, v, size_code=2):
        return struct.pack("<BHI", (size_code << 3) | 0, off, v)

    def r(off):
        return struct.pack("<BHI", (2 << 3) | 4, off, 0)

    def store(gpa, v):
        return struct.pack("<BHI", 5, gpa // 4, v)

    for dev in range(5):
        ops = r(0x000) + r(0x004) + r(0x008) + w(0x070, 0) + w(0x070, 1) + w(0x070, 3)
        ops += w(0x014, 0) + r(0x010) + w(0x014, 1) + r(0x010)
        ops += w(0x024, 1) + struct.pack("<BHI", 1, 0x020, 1) + w(0x070, 0xb) + r(0x070)
        nq = {0: 1, 1: 1, 2: 1, 3: 2, 4: 3}[dev]
        for q in range(nq):
            base = 0x1000 * (q + 1)
            ops += w(0x030, q) + r(0x034) + w(0x038, 8) + w(0x080, base) + w(0x090, base + 0x100)
            ops += w(0x0a0, base + 0x200) + w(0x044, 1)
        ops += w(0x070, 0xf) + r(0x100) + r(0x060)
        # one chain on queue nq-1 (the tx queue where there is one): 64 bytes
        base = 0x1000 * nq
        ops += store(base, 0x8000) + store(base + 8, 64) + store(base + 12, 2 if dev in (0, 1, 2) else 0)
        ops += store(base + 0x100, 1 << 16) + store(base + 0x104, 0)
        ops += struct.pack("<BHI", 0, 0x050, nq - 1) + struct.pack("<BHI", 6, 0, 0)
        ops += struct.pack("<BHI", 7, 0, nq - 1) + r(0x060) + w(0x064, 1)
        ops += w(0x070, 0) + r(0x070)
        write("mmio", "bringup-" + ["blk", "blk-ro", "rng", "console", "vsock"][dev], bytes([dev]) + ops)
    # A live device: clearing DRIVER_OK/FEATURES_OK without a reset must not
    # unlock the queue or feature registers (8c8804b).
    ops = w(0x070, 1) + w(0x070, 3) + w(0x024, 1) + struct.pack("<BHI", 1, 0x020, 1) + w(0x070, 0xb)
    ops += w(0x030, 0) + w(0x038, 8) + w(0x080, 0x1000) + w(0x090, 0x1100) + w(0x0a0, 0x1200)
    ops += w(0x044, 1) + w(0x070, 0xf) + w(0x070, 0x3) + w(0x044, 0) + w(0x080, 0x2000)
    ops += w(0x024, 0) + w(0x020, 0xffffffff)
    write("mmio", "clear-driver-ok", bytes([2]) + ops)


# ------------------------------------------------------------------ vsock
def vsock_seeds():
    def pkt(flags, hdr, payload=b""):
        return bytes([0, flags]) + hdr + struct.pack("<H", len(payload)) + b"\0" + payload

    def rx(count=4, size=4096):
        return bytes([1, count]) + struct.pack("<H", size - 1)

    read = bytes([3])
    ev_init = ctl(16, struct.pack("<IIQ", 1, 0, 1000))
    ev_cmd = ctl(16, struct.pack("<IIQ", 2, 0, 2000))
    status = ctl(17, struct.pack("<IiQ", 1, 0, 3000))
    conv = rx() + pkt(0, vsock_hdr(1)) + read
    conv += pkt(1, vsock_hdr(5, len(ev_init)), ev_init) + rx() + read
    conv += pkt(1, vsock_hdr(5, len(ev_cmd)), ev_cmd) + bytes([2]) + rx() + read
    conv += pkt(1, vsock_hdr(5, len(status)), status) + read
    conv += pkt(0, vsock_hdr(7)) + rx() + pkt(0, vsock_hdr(4)) + rx() + read
    write("vsock", "conversation", conv)
    # Receive buffers with no room past the header while the command waits:
    # NEEDS_RESET (ec739e6), not empty OP_RW packets.
    hdr_only = rx(0, 4096) + pkt(0, vsock_hdr(1)) + read + rx(4, 44)
    hdr_only += pkt(1, vsock_hdr(5, len(ev_init)), ev_init) + read
    write("vsock", "header-only-buffers", hdr_only)
    bad = rx(2, 64) + pkt(0, vsock_hdr(1, dst_port=99)) + pkt(0, vsock_hdr(1, vtype=2))
    bad += pkt(0, vsock_hdr(5, 10)) + pkt(0, vsock_hdr(3)) + read
    write("vsock", "refusals", bad)


# ----------------------------------------------------------- control host
def control_host_seeds():
    def recv(data):
        out = b""
        for i in range(0, len(data), 7):  # cut into 7-byte pieces
            part = data[i:i + 7]
            out += bytes([0, len(part)]) + part
        return out

    take = bytes([1]) + struct.pack("<H", 4096)
    ev_init = ctl(16, struct.pack("<IIQ", 1, 0, 1000))
    ev_cmd = ctl(16, struct.pack("<IIQ", 2, 0, 2000))
    for shape, st in ((7, (1, 3)), (0, (2, 9)), (3, (3, 2)), (4, (4, 5))):
        status = ctl(17, struct.pack("<IiQ", st[0], st[1], 3000))
        ops = bytes([3]) + recv(ev_init) + take + recv(ev_cmd)
        ops += bytes([2]) + struct.pack("<Q", 12) + take + recv(status) + bytes([4]) + take
        write("control_host", "run-shape%d" % shape, bytes([shape]) + ops)


# ---------------------------------------------------------- control guest
def control_guest_seeds():
    rec = ctl(1, b"sh") + ctl(1, b"-c") + ctl(1, b"echo hi") + ctl(2, b"HOME=/root")
    rec += ctl(2, b"PATH=/bin") + ctl(3, b"/tmp") + ctl(4, struct.pack("<I", 0)) + ctl(5)
    post = ctl(6, struct.pack("<Q", 5)) + ctl(7, struct.pack("<I", 15)) + ctl(8, struct.pack("<HH", 24, 80))
    write("control_guest", "full", rec + post)
    write("control_guest", "minimal", ctl(1, b"true") + ctl(5) + ctl(6, struct.pack("<Q", 0)))
    write("control_guest", "tty", ctl(1, b"bash") + ctl(4, struct.pack("<I", 1)) + ctl(5) + ctl(8, struct.pack("<HH", 50, 132)))


# ----------------------------------------------------------------- loader
def elf(pvh):
    phnum = 2 if pvh else 1
    ehdr = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)
    ehdr += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x100000, 64, 0, 0, 64, 56, phnum, 0, 0, 0)
    code_off = 64 + 56 * phnum
    note = b""
    if pvh:
        note = struct.pack("<III", 4, 4, 18) + b"Xen\0" + struct.pack("<I", 0x100010)
    load = struct.pack("<IIQQQQQQ", 1, 7, code_off, 0x100000, 0x100000, 64, 0x2000, 0x1000)
    img = ehdr + load
    if pvh:
        img += struct.pack("<IIQQQQQQ", 4, 4, code_off + 64, 0, 0, len(note), len(note), 4)
    return img + bytes(range(64)) + note


def bzimage(pref=0x100000, init_size=0x80000):
    img = bytearray(1024 + 256)
    img[0x1f1] = 1                                  # setup_sects: setup is 1024 bytes
    struct.pack_into("<H", img, 0x1fe, 0xaa55)
    img[0x200] = 0xeb
    img[0x201] = 0x66                               # header ends at 0x268
    struct.pack_into("<I", img, 0x202, 0x53726448)  # HdrS
    struct.pack_into("<H", img, 0x206, 0x020f)
    struct.pack_into("<I", img, 0x22c, 0x7fffffff)  # initrd_addr_max
    img[0x234] = 1                                  # relocatable
    struct.pack_into("<H", img, 0x236, 1)           # XLF_KERNEL_64
    struct.pack_into("<I", img, 0x238, 2048)        # cmdline_size
    struct.pack_into("<Q", img, 0x258, pref)        # pref_address
    struct.pack_into("<I", img, 0x260, init_size)
    return bytes(img)


def loader_seeds():
    initrd = struct.pack("<I", 4096)
    write("loader", "elf-pvh-initrd", bytes([8]) + initrd + elf(True))
    write("loader", "elf-64bit", bytes([2]) + initrd + elf(False))
    write("loader", "bzimage-initrd", bytes([8]) + initrd + bzimage())
    write("loader", "bzimage", bytes([6]) + initrd + bzimage())
    # pref_address + init_size wraps: must be refused (ce03455), not placed low.
    write("loader", "bzimage-wrapping-end", bytes([8]) + initrd + bzimage(2**64 - 0x1000, 0x2000))
    write("loader", "raw", bytes([1]) + initrd + b"\xf4" * 16)


# ------------------------------------------------------------------- cpio
def cpio_seeds():
    def api(op, mode, name, target=b""):
        return bytes([op]) + struct.pack("<H", mode) + bytes([len(name)]) + name + bytes([len(target)]) + target

    ops = api(0, 0o755, b"bin") + api(1, 0o755, b"/bin/sh", b"#!/bin/busybox") + api(2, 0, b"lib", b"usr/lib")
    ops += api(3, 0o010644, b"dev/fifo") + api(3 | 4, 0o020600, b"dev/null") + api(0, 0o700, b"./root/./x/")
    write("cpio", "api", bytes([0]) + ops)

    def node(t, parent, name, data=b"x"):
        return bytes([t, parent, len(name) - 1]) + name + bytes([len(data) - 1]) + data

    tree = bytes([1, 4]) + b"init"
    tree += node(1, 255, b"etc") + node(0, 0, b"passwd", b"root:x:0:0") + node(2, 0, b"link", b"../bin/sh")
    tree += node(3, 0, b"fifo") + node(1, 0, b"deep") + node(0, 4, b"file", b"data")
    write("cpio", "tree", tree)
    write("cpio", "tree-root", bytes([1, 0]) + node(0, 255, b"a", b"1") + node(1, 255, b"b"))


# ----------------------------------------------------------------- decode
def decode_seeds():
    regs = b"".join(struct.pack("<Q", 0x1000 * (i + 1)) for i in range(16))
    insns = {
        "vmmcall": "0f01d9", "vmrun": "0f01d8", "mov-cr3": "0f22d8", "mov-cr4-r8": "440f22e0",
        "wrmsr": "0f30", "rdmsr": "0f32", "cpuid": "0fa2", "ltr": "0f00d8",
        "lgdt-riprel": "0f011500100000", "lidt-sib": "0f011c24",
        "mov-store": "48894424f8", "mov-byte-disp32": "88842400010000", "rep-movsb": "f3a4",
        "mov-sib-nobase": "89042500200000", "prefixes": "662e3e4889c0",
    }
    for name, hexs in insns.items():
        code = bytes.fromhex(hexs).ljust(32, b"\x90")
        write("decode", name, bytes([32]) + code + regs)
    # Near a page end: 9 bytes readable.
    write("decode", "page-end", bytes([9]) + bytes.fromhex("48894424f8").ljust(32, b"\0") + regs)
    # 10 bytes with 9 readable: decoded from a byte never read (fixed: -EFAULT).
    write("decode", "page-end-too-long", bytes([9]) + bytes.fromhex("2e664889842400010000").ljust(32, b"\0") + regs)


# ------------------------------------------------------------ nested walk
def nested_seeds():
    for ept in (0, 1):
        p = 7 if ept else 1 | 2
        entries = [(0, 0, 0x1000 | p), (1, 0, 0x2000 | p), (2, 0, 0x3000 | p),
                   (2, 1, 0x200000 | p | 0x80), (3, 0, 0x5000 | p), (3, 1, 0x6000 | 1)]
        data = bytes([ept]) + struct.pack("<Q", 0xfff0000000000000) + struct.pack("<H", 0)
        data += bytes([1]) + struct.pack("<Q", 0x800000)
        data += bytes([1]) + struct.pack("<IBB", 6, 0, 1)  # page 6 is kernel text
        data += bytes([len(entries)])
        for page, idx, e in entries:
            data += struct.pack("<BHQ", page, idx, e)
        gpas = [0, 0x1000, 0x200000, 0x201000, 0x40000000]
        data += bytes([len(gpas)]) + b"".join(struct.pack("<Q", g) for g in gpas) + bytes([5])
        write("nested_walk", "tree-" + ("ept" if ept else "npt"), data)


# -------------------------------------------------------------------- net
def net_seeds():
    def eth(n, seed=0):
        return bytes(range(seed, seed + 12)) + b"\x08\x00" + bytes((seed + i) & 0xff for i in range(n - 14))

    def tx(frame, flags=0, hdr=b"\0" * 12, splits=b""):
        return bytes([0, flags]) + hdr + struct.pack("<H", len(frame)) + frame + splits

    def rx(count, size, flags=0):
        return bytes([1, (count - 1) % 8]) + struct.pack("<HB", size, flags)

    def backend(frame, prefix=None):
        if prefix is None:
            return bytes([2, 0]) + struct.pack("<H", len(frame)) + frame
        return bytes([2, 2]) + struct.pack("<H", len(frame)) + struct.pack("<I", prefix) + frame

    recv, read = bytes([3]), bytes([6])
    csum_hdr = struct.pack("<BBHHHHH", 1, 0, 0, 0, 34, 16, 0)
    for setup, name in ((1 | 2 | 4, "stream"), (2, "tap")):
        ops = rx(4, 2048) + tx(eth(60)) + recv + backend(eth(60, 7)) + read
        ops += tx(eth(100), 2 << 1, csum_hdr, bytes([0, 1])) + recv + backend(eth(1514, 3)) + read
        write("net", name + "-both-ways", bytes([setup]) + ops)
    # A frame across merged buffers, then one too big for unmerged ones.
    big = eth(3000, 1)
    write("net", "stream-merged", bytes([1 | 4]) + rx(8, 1024) + backend(big) + read + recv)
    write("net", "stream-unmerged", bytes([1]) + rx(2, 1024) + backend(big) + rx(2, 4096) + backend(eth(200)) + read)
    write("net", "stream-bad-prefix", bytes([1]) + rx(2, 2048) + backend(eth(100), 8) + backend(eth(80)) + read)


for gen in (virtq_seeds, mmio_seeds, vsock_seeds, control_host_seeds, control_guest_seeds,
            loader_seeds, cpio_seeds, decode_seeds, nested_seeds, net_seeds):
    gen()
