/* png.c - a minimal PNG writer (8-bit greyscale) on top of zlib, written
 * through the atomic writer like every other output. */
#include <string.h>
#include <zlib.h>

#include "core/internal.h"
#include "io/fileio.h"

static void put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* One chunk: length, type, data, CRC of type and data. */
static int chunk(made__atomic *f, const char *type, const unsigned char *data, size_t len)
{
    unsigned char hdr[8], crcb[4];
    put32(hdr, (unsigned long)len);
    memcpy(hdr + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len) crc = crc32(crc, data, (uInt)len);
    put32(crcb, crc);
    int rc = made__atomic_write(f, hdr, 8);
    if (!rc && len) rc = made__atomic_write(f, data, len);
    if (!rc) rc = made__atomic_write(f, crcb, 4);
    return rc;
}

int made_png_write(const char *path, const unsigned char *pixels, int width, int height)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    made__clear_error();
    if (!path || !pixels) return made__error(MADE_E_INVAL, "png write: NULL argument");
    if (width < 1 || height < 1 || width > 1000000 || height > 1000000)
        return made__error(MADE_E_INVAL, "png write: image size %dx%d is outside 1..1000000",
                           width, height);
    size_t raw_len;
    if (made__mul_size((size_t)height, (size_t)width + 1, &raw_len) || raw_len > 0xffffffffu)
        return made__error(MADE_E_NOMEM, "png write: image of %dx%d is too large", width, height);
    uLongf zlen = compressBound((uLong)raw_len);
    unsigned char *raw = made__malloc(raw_len), *z = made__malloc(zlen);
    int rc = raw && z ? MADE_OK : MADE_E_NOMEM;
    for (int y = 0; !rc && y < height; y++) {
        raw[(size_t)y * (width + 1)] = 0; /* filter: none */
        memcpy(raw + (size_t)y * (width + 1) + 1, pixels + (size_t)y * width, (size_t)width);
    }
    if (!rc && compress2(z, &zlen, raw, (uLong)raw_len, 9) != Z_OK)
        rc = made__error(MADE_E_NOMEM, "png write: compression failed");
    unsigned char ihdr[13];
    put32(ihdr, (unsigned long)width);
    put32(ihdr + 4, (unsigned long)height);
    ihdr[8] = 8;  /* bit depth */
    ihdr[9] = 0;  /* greyscale */
    ihdr[10] = 0; /* deflate */
    ihdr[11] = 0; /* adaptive filtering */
    ihdr[12] = 0; /* no interlace */
    made__atomic *f = NULL;
    if (!rc) rc = made__atomic_open(&f, path);
    if (!rc) rc = made__atomic_write(f, sig, 8);
    if (!rc) rc = chunk(f, "IHDR", ihdr, 13);
    if (!rc) rc = chunk(f, "IDAT", z, zlen);
    if (!rc) rc = chunk(f, "IEND", NULL, 0);
    if (!rc) rc = made__atomic_commit(f); /* frees f whatever happens */
    else made__atomic_abort(f);
    made__free(raw);
    made__free(z);
    return rc;
}
