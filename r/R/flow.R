# flow.R - flows (MAF and IAF stacks of made networks): made_flow() and
# made_fit(..., flow = "maf:K"), their options, scores, samples, both
# directions of the chain, structure and files.

# A TRUE/FALSE option stored in the made_flow_config field of its name.
flag_field <- function(field) {
  force(field)
  function(v, f, e) {
    f[[field]] <- flag_arg(field, v)
    f
  }
}

# One entry per flow option (the `made train --flow` option, with _ for -):
# its default and how a value becomes made_flow_config fields (each field is
# one line of flow_fields in src/flow_r.c). Applied in this order.
flow_options <- list(
  permutation = list(default = "reverse", set = function(v, f, e) {
    if (is.character(v)) {
      kinds <- c(reverse = 0L, random = 1L, identity = 3L)
      if (identical(v, "explicit"))
        bad_arg("permutation: give the permutation itself, 0-based, such as c(2, 0, 1)")
      f$permutation <- kinds[[choice_arg("permutation", v, names(kinds))]]
      return(f)
    }
    if (is.list(v)) v <- unlist(v)
    if (!is.numeric(v) || anyNA(v) || any(v != floor(v)))
      bad_arg("permutation: expected \"reverse\", \"random\", \"identity\" or a 0-based permutation such as c(2, 0, 1), got %s",
              show_value(v))
    if (length(v) != e) bad_arg("permutation: %d entries, but the event size is %d", length(v), e)
    if (any(v < 0 | v >= e))
      bad_arg("permutation: %s is not a 0-based position (expected a permutation of 0..%d)",
              format(v[v < 0 | v >= e][1]), e - 1)
    f$permutation <- 2L
    f$explicit_permutation <- as.integer(v)
    f
  }),
  batch_norm = list(default = FALSE, set = flag_field("batch_norm")),
  scale = list(default = "exp", set = function(v, f, e) {
    f$scale <- choice_arg("scale", v, c("exp", "softplus", "softclip"))
    f
  }),
  standardize = list(default = FALSE, set = function(v, f, e) {
    if (flag_arg("standardize", v)) f$preprocess <- 1L
    f
  }),
  logit = list(default = NULL, set = function(v, f, e) {
    if (is.null(v)) return(f)
    if (!is.null(f$preprocess)) bad_arg("give standardize or logit, not both")
    f$logit_lambda <- real_arg("logit", v, 0, 0.499999)
    f$preprocess <- 2L
    f
  }),
  dequantize = list(default = FALSE, set = function(v, f, e) {
    if (!flag_arg("dequantize", v)) return(f)
    if (!identical(f$preprocess, 2L)) bad_arg("dequantize needs logit = L (e.g. logit = 1e-6)")
    f$dequantize_levels <- 256L
    f
  }),
  share_weights = list(default = FALSE, set = flag_field("share_weights"))
)

# The flow options among a call's extra arguments; any other name is an error.
split_flow_options <- function(dots, allowed = character(0)) {
  if (length(dots) && (is.null(names(dots)) || any(names(dots) == "")))
    bad_arg("...: every extra argument must be named (e.g. batch_norm = TRUE)")
  unknown <- setdiff(names(dots), c(names(flow_options), allowed))
  if (length(unknown))
    bad_arg("unknown argument '%s' (flow options: %s)", unknown[1],
            paste(names(flow_options), collapse = ", "))
  dots[intersect(names(dots), names(flow_options))]
}

# "maf:K" / "iaf:K", as `made train --flow`.
parse_flow <- function(v) {
  string_arg("flow", v)
  m <- regmatches(v, regexec("^([a-z]+):([0-9]+)$", v))[[1]]
  k <- if (length(m)) suppressWarnings(as.numeric(m[3])) else NA
  if (!length(m) || !(m[2] %in% c("maf", "iaf")) || is.na(k) || k < 1 || k > 1024)
    bad_arg("flow: \"%s\" (expected \"maf:K\" or \"iaf:K\" with K in 1..1024, e.g. \"maf:5\")", v)
  list(kind = match(m[2], c("maf", "iaf")) - 1L, num_layers = as.integer(k))
}

# The made_flow_config fields for C: kind and layers, then each option's.
flow_fields <- function(kind, num_layers, opts, e) {
  f <- list(kind = kind, num_layers = num_layers)
  for (name in names(flow_options)) {
    v <- if (name %in% names(opts)) opts[[name]] else flow_options[[name]]$default
    f <- flow_options[[name]]$set(v, f, e)
  }
  f
}

made_flow <- function(event_shape, num_layers = 1, kind = "maf", hidden_units = NULL,
                      input_order = "left-to-right", hidden_degrees = "equal",
                      activation = NULL, use_bias = TRUE,
                      kernel_initializer = "glorot_uniform", validate_args = FALSE, ...,
                      seed = NULL) {
  dots <- list(...)
  net_extra <- c("conditional_event_shape", "conditional_input_layers", "bias_initializer")
  opts <- split_flow_options(dots, net_extra)
  e <- shape_arg("event_shape", event_shape)
  if (is.null(e)) bad_arg("event_shape: a flow needs its event size, e.g. event_shape = 2")
  csize <- shape_arg("conditional_event_shape", dots$conditional_event_shape)
  k <- match(choice_arg("kind", kind, c("maf", "iaf")), c("maf", "iaf")) - 1L
  layers <- as.integer(int_arg("num_layers", num_layers, 1, 1024))
  margs <- fit_model_args("gaussian", 2, hidden_units, input_order, hidden_degrees, activation,
                          use_bias, kernel_initializer,
                          if (is.null(dots$bias_initializer)) "zeros" else dots$bias_initializer,
                          if (is.null(dots$conditional_input_layers)) "all_layers"
                          else dots$conditional_input_layers,
                          validate_args, 1, seed, e)
  margs["dist"] <- list(NULL)
  fields <- flow_fields(k, layers, opts, e)
  new_flow(.Call(made_r_flow_create, margs, fields, e, if (is.null(csize)) 0L else csize))
}

new_flow <- function(ptr) {
  f <- new.env(parent = emptyenv())
  f$ptr <- ptr
  f$threads <- 1L
  class(f) <- "made_flow"
  f
}

flow_info <- function(object) .Call(made_r_flow_info, object$ptr)

# A conditional input [n, C] or one row for every row; the messages name the
# layer (every layer takes the same input; the first one reads it first).
flow_conditional <- function(info, c, n, name = "conditional") {
  if (info$conditional_size == 0L) {
    if (!is.null(c)) bad_arg("%s given, but the flow's layers are not conditional", name)
    return(NULL)
  }
  if (is.null(c))
    bad_arg("%s: the flow is conditional (flow layer 1, like every layer, takes %d conditional values), but none was given",
            name, info$conditional_size)
  if (is.null(dim(c)) && is.numeric(c) && length(c) != info$conditional_size ||
      !is.null(dim(c)) && ncol(c) != info$conditional_size)
    bad_arg("%s: flow layer 1 (like every layer) takes %d conditional values per row, got %s",
            name, info$conditional_size,
            if (is.null(dim(c))) sprintf("%d values", length(c)) else paste(dim(c), collapse = "x"))
  c <- rows_arg(name, c, info$conditional_size)
  if (nrow(c) == 1L && n != 1L) c <- c[rep(1L, n), , drop = FALSE]
  if (nrow(c) != n) bad_arg("%s has %d rows, x has %d", name, nrow(c), n)
  c
}

flow_rows <- function(object, x, seed, name = "x") {
  info <- flow_info(object)
  x <- rows_arg(name, x, info$event_size)
  if (info$dequantize) x <- .Call(made_r_flow_dequantize, object$ptr, x, seed_arg(seed, 2^53), name)
  x
}

log_prob.made_flow <- function(object, x, conditional = NULL, seed = 0, ...) {
  info <- flow_info(object)
  x <- flow_rows(object, x, seed)
  c <- flow_conditional(info, conditional, nrow(x))
  .Call(made_r_flow_log_prob, object$ptr, x, c)
}

sample.made_flow <- function(x, size, seed = 0, conditional = NULL, ...) {
  info <- flow_info(x)
  size <- int_arg("size", size, 0, 2^31 - 1)
  seed <- seed_arg(seed, 2^53)
  c <- flow_conditional(info, conditional, size)
  .Call(made_r_flow_sample, x$ptr, size, c, seed)
}

flow_transform <- function(object, x, conditional, forward) {
  if (!inherits(object, "made_flow")) bad_arg("object: expected a made flow")
  info <- flow_info(object)
  x <- rows_arg(if (forward) "x" else "y", x, info$event_size)
  c <- flow_conditional(info, conditional, nrow(x))
  .Call(made_r_flow_transform, object$ptr, x, c, forward)
}

flow_forward <- function(object, x, conditional = NULL) flow_transform(object, x, conditional, TRUE)

flow_inverse <- function(object, y, conditional = NULL) flow_transform(object, y, conditional, FALSE)

flow_layers <- function(object) {
  if (!inherits(object, "made_flow")) bad_arg("object: expected a made flow")
  lapply(seq_len(flow_info(object)$num_layers) - 1L, function(k) {
    net <- new_network("made_network", .Call(made_r_flow_layer, object$ptr, k))
    net$flow <- object
    net
  })
}

flow_permutations <- function(object) {
  if (!inherits(object, "made_flow")) bad_arg("object: expected a made flow")
  .Call(made_r_flow_permutations, object$ptr)
}

flow_batch_norm <- function(object) {
  if (!inherits(object, "made_flow")) bad_arg("object: expected a made flow")
  info <- flow_info(object)
  if (!info$batch_norm) return(NULL)
  lapply(seq_len(info$num_layers) - 1L, function(k) .Call(made_r_flow_get_bn, object$ptr, k))
}

flow_set_batch_norm <- function(object, layer, mean, variance, gamma, beta) {
  if (!inherits(object, "made_flow")) bad_arg("object: expected a made flow")
  info <- flow_info(object)
  layer <- int_arg("layer", layer, 1, info$num_layers)
  v <- list(mean = mean, variance = variance, gamma = gamma, beta = beta)
  for (n in names(v)) {
    if (!is.numeric(v[[n]]) || length(v[[n]]) != info$event_size || !all(is.finite(v[[n]])))
      bad_arg("%s: expected %d finite numbers, got %s", n, info$event_size, show_value(v[[n]]))
    v[[n]] <- as.double(v[[n]])
  }
  .Call(made_r_flow_set_bn, object$ptr, as.integer(layer - 1), unname(v))
  invisible(object)
}

flow_standardization <- function(object) {
  if (!inherits(object, "made_flow")) bad_arg("object: expected a made flow")
  if (flow_info(object)$preprocess != "standardize") return(NULL)
  .Call(made_r_flow_standardization, object$ptr)
}

print.made_flow <- function(x, ...) {
  if (is.null(x$ptr)) {
    cat("<made flow (freed)>\n")
    return(invisible(x))
  }
  i <- flow_info(x)
  net <- made_config(flow_layers(x)[[1]])
  cat(sprintf("<made flow %s:%d: event size %d, hidden units %s, %s, scale %s%s%s>\n", i$kind,
              i$num_layers, i$event_size,
              if (length(net$hidden_units)) paste(net$hidden_units, collapse = ",") else "none",
              net$activation, i$scale, if (i$batch_norm) ", batch norm" else "",
              if (i$preprocess != "none") paste0(", ", i$preprocess) else ""))
  invisible(x)
}

summary.made_flow <- function(object, ...) {
  i <- flow_info(object)
  layers <- flow_layers(object)
  structure(list(info = i, layer = made_config(layers[[1]]),
                 permutations = flow_permutations(object)), class = "summary.made_flow")
}

print.summary.made_flow <- function(x, ...) {
  i <- x$info
  cat("made flow\n")
  cat("  kind:             ", i$kind, "(", i$num_layers, "layers )\n")
  cat("  event size:       ", i$event_size, "\n")
  if (i$conditional_size) cat("  conditional:      ", i$conditional_size, "inputs, to every layer\n")
  cat("  permutation:      ", paste(i$permutation, collapse = ","), "\n")
  for (k in seq_along(x$permutations))
    cat(sprintf("    after layer %d:   %s\n", k, paste(x$permutations[[k]], collapse = ",")))
  cat("  scale:            ", i$scale, "\n")
  cat("  batch norm:       ", i$batch_norm, "\n")
  cat("  shared network:   ", i$share_weights, "\n")
  cat("  preprocessing:    ", i$preprocess,
      if (!is.null(i$logit)) sprintf("(lambda %g%s)", i$logit,
                                     if (i$dequantize) ", dequantized pixels" else ""), "\n")
  cat("  layer network:     hidden units", paste(x$layer$hidden_units, collapse = ", "), "/",
      x$layer$activation, "/", x$layer$input_order_kind, "order\n")
  cat("  parameters:       ", format(i$num_params, big.mark = ","), "\n")
  invisible(x)
}
