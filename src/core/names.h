/*
 * core/names.h - one table per enum: its names, indexed by value, from which
 * both the public *_name and *_parse functions of that enum are made, so names
 * and parsing can never drift apart.
 */
#ifndef MADE_NAMES_H
#define MADE_NAMES_H

typedef struct made__names {
    const char *what;           /* the setting's name in error messages */
    const char *const *names;   /* names[value], canonical spelling */
    int count;                  /* values 0..count-1 have names */
    int parse_count;            /* parsing accepts values 0..parse_count-1 */
    const char *const *aliases; /* pairs {alias, canonical name}, NULL-terminated;
                                   may be NULL */
    const char *expected;       /* the "(expected ...)" text of the error; NULL
                                   lists the accepted names as "one of: a, b" */
    const char *adjective;      /* "unknown" or "invalid" value */
} made__names;

/* names[v], or "?" when v is out of range. */
const char *made__name_of(const made__names *t, int v);
/* Looks name up (aliases too); on failure returns MADE_E_INVAL with a message
 * "what: unknown value "name" (expected ...)". */
int made__name_parse(const made__names *t, const char *name, int *out);
/* Index of name in the table (names then aliases), or -1, setting no error. */
int made__name_find(const made__names *t, const char *name);

/* Defines made_<prefix>_name and made_<prefix>_parse for enum type T from
 * table TABLE (a made__names). */
#define MADE__NAME_FUNCTIONS(prefix, T, TABLE)                              \
    const char *made_##prefix##_name(T v) { return made__name_of(&(TABLE), (int)v); } \
    int made_##prefix##_parse(const char *name, T *out)                     \
    {                                                                       \
        int v, rc = made__name_parse(&(TABLE), name, &v);                   \
        if (rc == 0) *out = (T)v;                                           \
        return rc;                                                          \
    }

#endif
