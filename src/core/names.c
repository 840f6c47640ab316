/* names.c - enum names and their parsing, from one table per enum (names.h). */
#include <stdio.h>
#include <string.h>

#include "core/internal.h"
#include "core/names.h"

const char *made__name_of(const made__names *t, int v)
{
    return v >= 0 && v < t->count ? t->names[v] : "?";
}

int made__name_find(const made__names *t, const char *name)
{
    for (int i = 0; i < t->parse_count; i++)
        if (strcmp(name, t->names[i]) == 0) return i;
    for (int i = 0; t->aliases && t->aliases[i]; i += 2)
        if (strcmp(name, t->aliases[i]) == 0) return made__name_find(t, t->aliases[i + 1]);
    return -1;
}

int made__name_parse(const made__names *t, const char *name, int *out)
{
    int i = name ? made__name_find(t, name) : -1;
    if (i >= 0) {
        *out = i;
        return MADE_OK;
    }
    char list[512] = "";
    const char *expected = t->expected;
    if (!expected) {
        size_t used = (size_t)snprintf(list, sizeof list, "one of: ");
        for (int k = 0; k < t->parse_count && used < sizeof list; k++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "",
                                     t->names[k]);
        expected = list;
    }
    return made__error(MADE_E_INVAL, "%s: %s value \"%s\" (expected %s)", t->what,
                       t->adjective ? t->adjective : "unknown", name ? name : "(null)", expected);
}
