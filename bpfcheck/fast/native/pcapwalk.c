/* Where the records of a classic pcap buffer start, and their lengths.
 *
 * bpfcheck's one piece of C, built on first use by bpfcheck/fast/native.py
 * with the system compiler and loaded with ctypes.  Everything else about
 * a capture (packets, filtering, counting) stays in numpy; only this walk
 * is inherently sequential -- each record's start depends on the length
 * word of the one before -- and costs one Python step per record without
 * it.  The pure-Python walk in bpfcheck/pcapio.py is the reference and the
 * fallback; the tests hold the two to the same answer.
 */
#include <stdint.h>
#include <string.h>

static uint32_t word(const unsigned char *p, int swap)
{
    uint32_t v;
    memcpy(&v, p, 4);               /* records need not be aligned */
    if (swap)
        v = __builtin_bswap32(v);
    return v;
}

/* For each complete record in buf[pos:have] (at most max_records of
 * them): the offset of its data (just past its 16-byte header) in starts,
 * its captured length in caplens and its original length in wirelens.
 * *end gets the offset of the first record not written: one that is not
 * complete, or have, or the next one when max_records stopped the walk.
 * Returns how many records were written. */
long bpfcheck_walk_pcap(const unsigned char *buf, long pos, long have, int swap,
                        long max_records, int64_t *starts, int64_t *caplens,
                        int64_t *wirelens, long *end)
{
    long n = 0;
    while (n < max_records && have - pos >= 16) {
        uint32_t caplen = word(buf + pos + 8, swap);
        uint64_t next = (uint64_t)pos + 16 + caplen;
        if (next > (uint64_t)have)
            break;
        starts[n] = pos + 16;
        caplens[n] = caplen;
        wirelens[n] = word(buf + pos + 12, swap);
        n++;
        pos = (long)next;
    }
    *end = pos;
    return n;
}
