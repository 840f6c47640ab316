# args.R - checking arguments before they reach libmade. Every problem is a
# condition of class made_error naming the argument.

made_stop <- function(status, message) {
  kind <- tolower(sub("^MADE_E_", "", status))
  cond <- structure(
    class = c(paste0("made_", kind), "made_error", "error", "condition"),
    list(message = message, call = NULL, status = status)
  )
  stop(cond)
}

bad_arg <- function(fmt, ...) made_stop("MADE_E_INVAL", sprintf(fmt, ...))

is_whole <- function(v) {
  is.numeric(v) && length(v) == 1L && !is.na(v) && is.finite(v) && v == floor(v)
}

int_arg <- function(name, v, lo, hi) {
  if (!is_whole(v)) bad_arg("%s: expected a whole number, got %s", name, show_value(v))
  if (v < lo || v > hi) bad_arg("%s: %.17g is out of range (%.17g to %.17g)", name, v, lo, hi)
  v
}

real_arg <- function(name, v, lo, hi) {
  if (!is.numeric(v) || length(v) != 1L || is.na(v))
    bad_arg("%s: expected a number, got %s", name, show_value(v))
  if (!(v >= lo && v <= hi)) bad_arg("%s: %g is out of range (%g to %g)", name, v, lo, hi)
  as.double(v)
}

flag_arg <- function(name, v) {
  if (!is.logical(v) || length(v) != 1L || is.na(v))
    bad_arg("%s: expected TRUE or FALSE, got %s", name, show_value(v))
  v
}

string_arg <- function(name, v) {
  if (!is.character(v) || length(v) != 1L || is.na(v))
    bad_arg("%s: expected a string, got %s", name, show_value(v))
  v
}

choice_arg <- function(name, v, options) {
  string_arg(name, v)
  if (!(v %in% options))
    bad_arg("%s: invalid value \"%s\" (expected one of: %s)", name, v,
            paste(options, collapse = ", "))
  v
}

show_value <- function(v) {
  if (is.null(v)) return("NULL")
  if (is.function(v)) return("a function")
  out <- tryCatch(paste(format(v), collapse = ", "), error = function(e) class(v)[1])
  if (nchar(out) > 60) out <- paste0(substr(out, 1, 57), "...")
  sprintf("%s (%s)", out, class(v)[1])
}

# TFP's shapes: an integer E or a rank-1 shape c(E) / list(E).
shape_arg <- function(name, v) {
  if (is.null(v)) return(NULL)
  if (is.list(v)) v <- unlist(v)
  if (!is.numeric(v)) bad_arg("%s: expected an integer or a rank-1 shape, got %s", name, show_value(v))
  if (length(v) != 1L) bad_arg("%s: only rank-1 shapes are supported (got %s)", name, show_value(v))
  as.integer(int_arg(name, v, 1, 2^30))
}

units_arg <- function(v) {
  if (is.null(v)) return(integer(0))
  if (is.list(v)) v <- unlist(v)
  if (!is.numeric(v)) bad_arg("hidden_units: expected layer sizes such as c(64, 64), got %s", show_value(v))
  if (length(v) > 32L) bad_arg("hidden_units: %d layers; at most 32 are supported", length(v))
  for (i in seq_along(v)) int_arg(sprintf("hidden_units[%d]", i), v[[i]], 1, 2^30)
  as.integer(v)
}

# Returns list(kind, order): kind 0..3 as made_order, order the explicit 1-based one.
order_arg <- function(v) {
  kinds <- c("left-to-right" = 0L, "right-to-left" = 1L, "random" = 2L)
  if (is.character(v)) {
    choice_arg("input_order", v, names(kinds))
    return(list(kind = kinds[[v]], order = NULL))
  }
  if (is.list(v)) v <- unlist(v)
  if (!is.numeric(v) || length(v) == 0L || anyNA(v) || any(v != floor(v)))
    bad_arg("input_order: expected \"left-to-right\", \"right-to-left\", \"random\" or a 1-based permutation such as c(2, 3, 1), got %s",
            show_value(v))
  if (any(v < 1 | v > 2^30))
    bad_arg("input_order: %s is not a 1-based position (expected a permutation of 1..%d)",
            format(v[v < 1 | v > 2^30][1]), length(v))
  list(kind = 3L, order = as.integer(v))
}

initializer_arg <- function(name, v) {
  string_arg(name, v)
  v
}

seed_arg <- function(v, max = 2^32 - 1) {
  if (is.null(v)) return(0)
  int_arg("seed", v, 0, max)
}

# Rows [n, w] as a double matrix: files read as made reads them (a 1-D file is
# one row), data frames and arrays with further axes flattened in C order (as
# the command line flattens .npy files).
rows_arg <- function(name, x, width = NULL) {
  if (is.null(x)) bad_arg("%s: expected a matrix, got NULL", name)
  if (is.character(x)) {
    string_arg(name, x)
    x <- made_read_data(x)
    if (is.null(dim(x)) || length(dim(x)) == 1L)
      x <- matrix(x, nrow = if (identical(width, 1L)) length(x) else 1L)
  }
  if (is.data.frame(x)) {
    if (!all(vapply(x, function(col) is.numeric(col) || is.logical(col), TRUE)))
      bad_arg("%s: every column must be numeric", name)
    x <- as.matrix(x)
  }
  if (!(is.numeric(x) || is.logical(x)) || is.object(x) && !is.matrix(x) && !is.array(x))
    bad_arg("%s: expected a numeric matrix, got %s", name, show_value(x))
  d <- dim(x)
  if (is.null(d)) {
    if (is.null(width)) bad_arg("%s: expected a matrix [n, E], got a vector", name)
    if (length(x) != width) bad_arg("%s: a vector must have %d values, got %d", name, width, length(x))
    x <- matrix(x, nrow = 1L)
  } else if (length(d) > 2L) {
    x <- aperm(x, c(1L, rev(seq_along(d)[-1L])))
    x <- matrix(x, nrow = d[1])
  }
  if (!is.null(width) && ncol(x) != width)
    bad_arg("%s: rows have %d values, but the model expects %d", name, ncol(x), width)
  storage.mode(x) <- "double"
  x
}
