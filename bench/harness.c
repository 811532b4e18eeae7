/* libpcap's bpf_filter in C, timed over a whole capture.
 *
 * Built by bench/run.py with the system compiler and linked against
 * libpcap.so.0.8 by name (-l:libpcap.so.0.8), so no libpcap headers are
 * needed: the two declarations below are libpcap's public ABI.
 *
 *   harness PROGRAM.bin CAPTURE.pcap REPEAT [VERDICTS.out]
 *
 * PROGRAM.bin is raw struct sock_filter (8 bytes each, the layout of
 * struct bpf_insn).  The capture is read into memory first with a minimal
 * classic-pcap reader (either byte order); only the filtering loop is timed.
 * Prints: packets accepted seconds_per_pass (best of REPEAT passes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct bpf_insn { uint16_t code; uint8_t jt; uint8_t jf; uint32_t k; };
extern unsigned int bpf_filter(const struct bpf_insn *, const unsigned char *,
                               unsigned int wirelen, unsigned int buflen);

static unsigned char *slurp(const char *path, long *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    *size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(*size ? *size : 1);
    if (!buf || fread(buf, 1, *size, f) != (size_t)*size) { perror(path); exit(2); }
    fclose(f);
    return buf;
}

static uint32_t rd32(const unsigned char *p, int swap) {
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: harness PROGRAM.bin CAPTURE.pcap REPEAT [OUT]\n"); return 2; }
    long psize, csize;
    struct bpf_insn *prog = (struct bpf_insn *)slurp(argv[1], &psize);
    unsigned char *cap = slurp(argv[2], &csize);
    int repeat = atoi(argv[3]);
    if (csize < 24) { fprintf(stderr, "capture too short\n"); return 2; }
    uint32_t magic = rd32(cap, 0);
    int swap = !(magic == 0xa1b2c3d4 || magic == 0xa1b23c4d);
    if (swap && !(magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1)) { fprintf(stderr, "not a pcap file\n"); return 2; }

    long count = 0, cap_n = 1024;
    const unsigned char **data = malloc(cap_n * sizeof *data);
    uint32_t *caplen = malloc(cap_n * 4), *wirelen = malloc(cap_n * 4);
    for (long pos = 24; pos + 16 <= csize;) {
        uint32_t incl = rd32(cap + pos + 8, swap), orig = rd32(cap + pos + 12, swap);
        if (pos + 16 + (long)incl > csize) break;
        if (count == cap_n) {
            cap_n *= 2;
            data = realloc(data, cap_n * sizeof *data);
            caplen = realloc(caplen, cap_n * 4);
            wirelen = realloc(wirelen, cap_n * 4);
        }
        data[count] = cap + pos + 16;
        caplen[count] = incl;
        wirelen[count] = orig;
        count++;
        pos += 16 + incl;
    }

    unsigned int *verdicts = malloc((count ? count : 1) * sizeof *verdicts);
    double best = 1e30;
    for (int r = 0; r < repeat; r++) {
        double t0 = now();
        for (long i = 0; i < count; i++)
            verdicts[i] = bpf_filter(prog, data[i], wirelen[i], caplen[i]);
        double t = now() - t0;
        if (t < best) best = t;
    }
    long accepted = 0;
    for (long i = 0; i < count; i++) accepted += verdicts[i] != 0;
    if (argc > 4) {
        FILE *out = fopen(argv[4], "wb");
        if (!out || fwrite(verdicts, 4, count, out) != (size_t)count) { perror(argv[4]); return 2; }
        fclose(out);
    }
    printf("%ld %ld %.9f\n", count, accepted, best);
    return 0;
}
