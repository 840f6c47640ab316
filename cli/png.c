/* png.c - a minimal PNG writer (greyscale, 8 bits) on top of zlib. Written to
 * a temp file and renamed, so an existing image is never half-overwritten. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cli.h"

static void put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One chunk: length, type, data, CRC of type and data. */
static int chunk(FILE *f, const char *type, const unsigned char *data, size_t len)
{
    unsigned char hdr[8], crcb[4];
    put32(hdr, (unsigned long)len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len) crc = crc32(crc, data, (uInt)len);
    put32(crcb, crc);
    return fwrite(hdr, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) &&
                   fwrite(crcb, 1, 4, f) == 4
               ? 0
               : -1;
}

int cli_png_write(const char *path, const unsigned char *pixels, int width, int height)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t raw_len = (size_t)height * ((size_t)width + 1);
    unsigned char *raw = malloc(raw_len);
    uLongf zlen = compressBound((uLong)raw_len);
    unsigned char *z = malloc(zlen);
    char *tmp = malloc(strlen(path) + 8);
    if (!raw || !z || !tmp) {
        free(raw);
        free(z);
        free(tmp);
        errno = ENOMEM;
        return -1;
    }
    for (int y = 0; y < height; y++) {
        raw[(size_t)y * (width + 1)] = 0; /* filter: none */
        memcpy(raw + (size_t)y * (width + 1) + 1, pixels + (size_t)y * width, (size_t)width);
    }
    int ok = compress2(z, &zlen, raw, (uLong)raw_len, 9) == Z_OK;
    int err = ok ? 0 : ENOMEM; /* errno of the first failure, for the message */
    unsigned char ihdr[13];
    put32(ihdr, (unsigned long)width);
    put32(ihdr + 4, (unsigned long)height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* greyscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    sprintf(tmp, "%s.tmp", path);
    FILE *f = ok ? fopen(tmp, "wb") : NULL;
    if (f) {
        ok = fwrite(sig, 1, 8, f) == 8 && chunk(f, "IHDR", ihdr, 13) == 0 &&
             chunk(f, "IDAT", z, zlen) == 0 && chunk(f, "IEND", NULL, 0) == 0;
        if (!ok) err = errno;
        if (fclose(f) != 0 && ok) {
            ok = 0;
            err = errno;
        }
        if (ok && rename(tmp, path) != 0) {
            ok = 0;
            err = errno;
        }
        if (!ok) remove(tmp);
    } else if (ok) {
        ok = 0;
        err = errno;
    }
    free(raw);
    free(z);
    free(tmp);
    if (!ok) errno = err;
    return ok ? 0 : -1;
}
