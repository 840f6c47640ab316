/* progress.c - the live progress line of `made train` on a terminal. It is
 * redrawn in place (carriage return, clear line), so it must stay on one line:
 * it is cut to the terminal's width. Its fields are explained in `made train
 * --help` (CLI_PROGRESS_HELP). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

static void fmt_time(char *buf, size_t n, double s)
{
    if (!(s >= 0) || s > 359999) s = 359999;
    int t = (int)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%02d:%02d", t / 60, t % 60);
}

/* Columns of the terminal on fd, else $COLUMNS, else 80. */
int cli_terminal_width(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *c = getenv("COLUMNS");
    long n = c ? strtol(c, NULL, 10) : 0;
    return n > 0 && n < 10000 ? (int)n : 80;
}

void cli_progress_line(FILE *f, const made_progress *p, int width)
{
    int bw = 20, done = (int)(bw * p->batch / (p->batches ? p->batches : 1));
    char bar[32], eta[16], val[48] = "", line[256];
    for (int i = 0; i < bw; i++) bar[i] = i < done ? '#' : '-';
    bar[bw] = '\0';
    double per_batch = p->seconds / (double)(p->batch ? p->batch : 1);
    double left = per_batch * (double)(p->batches - p->batch) +
                  per_batch * (double)p->batches * (double)(p->epochs - p->epoch);
    fmt_time(eta, sizeof eta, left);
    if (!isnan(p->best_val_nll)) snprintf(val, sizeof val, "  best val %.4f", p->best_val_nll);
    int n = snprintf(line, sizeof line, "epoch %d/%d [%s] %3d%%  %.0f ex/s  train %.4f%s  ETA %s",
                     p->epoch, p->epochs, bar, (int)(100 * p->batch / (p->batches ? p->batches : 1)),
                     p->examples_per_sec, p->train_nll, val, eta);
    /* One column short of the width: writing the last column makes some
     * terminals wrap at once. */
    int room = width - 1;
    if (room < 1) room = 1;
    if (n > room) n = room;
    if (n > (int)sizeof line - 1) n = (int)sizeof line - 1;
    fprintf(f, "\r\033[K%.*s", n, line);
    fflush(f);
}
