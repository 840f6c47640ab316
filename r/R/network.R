# network.R - autoregressive_network(): tfprobability::layer_autoregressive's
# arguments over a libmade model.

# The `...` of layer_autoregressive: the other AutoregressiveNetwork arguments
# and layer_dense options, with their TFP defaults.
dots_defaults <- list(
  conditional = FALSE, conditional_event_shape = NULL,
  conditional_input_layers = "all_layers", bias_initializer = "zeros",
  kernel_regularizer = NULL, bias_regularizer = NULL, kernel_constraint = NULL,
  bias_constraint = NULL, name = NULL, dtype = NULL, trainable = TRUE
)

autoregressive_network <- function(params, event_shape = NULL, hidden_units = NULL,
                                   input_order = "left-to-right", hidden_degrees = "equal",
                                   activation = NULL, use_bias = TRUE,
                                   kernel_initializer = "glorot_uniform",
                                   validate_args = FALSE, ..., seed = NULL) {
  dots <- list(...)
  if (length(dots) && (is.null(names(dots)) || any(names(dots) == "")))
    bad_arg("...: every extra argument must be named (e.g. bias_initializer = \"ones\")")
  unknown <- setdiff(names(dots), names(dots_defaults))
  if (length(unknown))
    bad_arg("unknown argument '%s' (accepted in ...: %s)", unknown[1],
            paste(names(dots_defaults), collapse = ", "))
  opt <- utils::modifyList(dots_defaults, dots, keep.null = TRUE)
  for (k in c("kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint"))
    if (!is.null(opt[[k]])) bad_arg("%s: not supported by made (only NULL)", k)
  if (!is.null(opt$dtype) && !identical(opt$dtype, "float32"))
    bad_arg("dtype: made computes in float32 (got %s)", show_value(opt$dtype))
  flag_arg("trainable", opt$trainable)
  if (!is.null(opt$name)) string_arg("name", opt$name)
  cond <- flag_arg("conditional", opt$conditional)
  csize <- shape_arg("conditional_event_shape", opt$conditional_event_shape)
  if (cond && is.null(csize)) bad_arg("conditional_event_shape must be given when conditional is TRUE")
  if (!cond && !is.null(csize)) bad_arg("conditional_event_shape given, but conditional is FALSE")
  event <- shape_arg("event_shape", event_shape)
  if (cond && is.null(event)) bad_arg("event_shape must be given when conditional is TRUE")
  if (!is.null(activation) && !is.character(activation))
    bad_arg("activation: expected NULL or an activation name such as \"relu\", got %s",
            show_value(activation))
  order <- order_arg(input_order)
  margs <- list(
    params = as.integer(int_arg("params", params, 1, 2^30)),
    hidden_units = units_arg(hidden_units),
    order_kind = order$kind, order = order$order,
    hidden_degrees = match(choice_arg("hidden_degrees", hidden_degrees, c("equal", "random")),
                           c("equal", "random")) - 1L,
    activation = if (is.null(activation)) "linear" else string_arg("activation", activation),
    use_bias = flag_arg("use_bias", use_bias),
    kernel_initializer = initializer_arg("kernel_initializer", kernel_initializer),
    bias_initializer = initializer_arg("bias_initializer", opt$bias_initializer),
    conditional_input_layers = choice_arg("conditional_input_layers",
                                          opt$conditional_input_layers,
                                          c("all_layers", "first_layer")),
    validate_args = flag_arg("validate_args", validate_args),
    seed = seed_arg(seed), dist = NULL, masks = 1L
  )
  net <- new_network("made_network", NULL)
  net$margs <- margs
  net$csize <- if (is.null(csize)) 0L else csize
  net$name <- opt$name
  if (!is.null(event)) build_network(net, event)
  net
}

new_network <- function(class, ptr) {
  net <- new.env(parent = emptyenv())
  net$ptr <- ptr
  net$threads <- 1L
  class(net) <- c(class, if (class != "made_network") "made_network")
  net
}

build_network <- function(net, event) {
  order <- net$margs$order
  if (!is.null(order) && length(order) != event)
    bad_arg("input_order: %d entries, but the event size is %d", length(order), event)
  net$ptr <- .Call(made_r_create, net$margs, as.integer(event), as.integer(net$csize))
  invisible(net)
}

handle <- function(net) {
  if (is.null(net$ptr))
    bad_arg("the network is not built yet (give event_shape, or call predict once)")
  net$ptr
}

made_config <- function(net) .Call(made_r_config, handle(net))

predict.made_network <- function(object, x, conditional_input = NULL, ...) {
  if (is.null(object$ptr)) {
    if (is.null(dim(x)) && is.numeric(x)) x <- matrix(x, nrow = 1L)
    if (is.null(dim(x))) bad_arg("x: expected a numeric matrix [n, E], got %s", show_value(x))
    build_network(object, ncol(rows_arg("x", x)))
  }
  cfg <- made_config(object)
  x <- rows_arg("x", x, cfg$event_size)
  if (nrow(x) >= 2^31) bad_arg("x: too many rows")
  c <- conditional_rows(cfg, conditional_input, nrow(x), "conditional_input")
  .Call(made_r_forward, handle(object), x, c)
}

# A conditional input [n, C], or one row (a vector of length C) for every row.
conditional_rows <- function(cfg, c, n, name) {
  if (cfg$conditional_size == 0L) {
    if (!is.null(c)) bad_arg("%s given, but the model is not conditional", name)
    return(NULL)
  }
  if (is.null(c)) bad_arg("%s must be given: the model is conditional", name)
  c <- rows_arg(name, c, cfg$conditional_size)
  if (nrow(c) == 1L && n != 1L) c <- c[rep(1L, n), , drop = FALSE]
  if (nrow(c) != n) bad_arg("%s has %d rows, x has %d", name, nrow(c), n)
  c
}

print.made_network <- function(x, ...) {
  if (is.null(x$ptr)) {
    cat("<made network, not built yet: params ", x$margs$params, ", hidden units ",
        paste(x$margs$hidden_units, collapse = ","), ">\n", sep = "")
    return(invisible(x))
  }
  cfg <- made_config(x)
  cat(sprintf("<made %s: event size %d, params %d, hidden units %s, %s>\n",
              if (inherits(x, "made_density")) paste("density model,", cfg$dist) else "network",
              cfg$event_size, cfg$params,
              if (length(cfg$hidden_units)) paste(cfg$hidden_units, collapse = ",") else "none",
              cfg$activation))
  invisible(x)
}

summary.made_network <- function(object, ...) {
  cfg <- made_config(object)
  masks <- .Call(made_r_masks, handle(object))
  layers <- data.frame(
    layer = seq_along(masks), inputs = vapply(masks, nrow, 1L),
    outputs = vapply(masks, ncol, 1L), connections = vapply(masks, sum, 1L)
  )
  structure(list(config = cfg, layers = layers), class = "summary.made_network")
}

print.summary.made_network <- function(x, ...) {
  cfg <- x$config
  cat("made network\n")
  cat("  event size:       ", cfg$event_size, "\n")
  cat("  params:           ", cfg$params, "\n")
  cat("  hidden units:     ", if (length(cfg$hidden_units)) paste(cfg$hidden_units, collapse = ", ") else "none", "\n")
  cat("  input order:      ", cfg$input_order_kind, "(", paste(cfg$input_order, collapse = ", "), ")\n")
  cat("  hidden degrees:   ", cfg$hidden_degrees, "\n")
  cat("  activation:       ", cfg$activation, "\n")
  cat("  use bias:         ", cfg$use_bias, "\n")
  cat("  initializers:     ", cfg$kernel_initializer, "/", cfg$bias_initializer, "\n")
  if (cfg$conditional_size)
    cat("  conditional:      ", cfg$conditional_size, "inputs,", cfg$conditional_input_layers, "\n")
  if (!is.null(cfg$dist)) cat("  distribution:     ", cfg$dist, "\n")
  if (cfg$num_masks > 1L) cat("  mask sets:        ", cfg$num_masks, "\n")
  cat("  parameters:       ", format(cfg$num_params, big.mark = ","), "(",
      format(cfg$num_free_params, big.mark = ","), "can be non-zero )\n")
  print(x$layers, row.names = FALSE)
  invisible(x)
}

get_weights <- function(object, ...) UseMethod("get_weights")

get_weights.made_network <- function(object, ...) {
  if (is.null(object$ptr)) return(list())
  .Call(made_r_get_weights, handle(object))
}

set_weights <- function(object, weights, ...) UseMethod("set_weights")

set_weights.made_network <- function(object, weights, ...) {
  current <- get_weights(object)
  if (!is.list(weights)) bad_arg("weights: expected a list of %d arrays", length(current))
  if (length(weights) != length(current))
    bad_arg("weights: %d arrays given, the network has %d (%s)", length(weights),
            length(current), paste(names(current), collapse = ", "))
  for (k in seq_along(current)) {
    w <- weights[[k]]
    want <- if (is.null(dim(current[[k]]))) length(current[[k]]) else dim(current[[k]])
    got <- if (is.null(dim(w))) length(w) else dim(w)
    if (!is.numeric(w)) bad_arg("weights[[%d]] (%s): expected numbers, got %s", k, names(current)[k], show_value(w))
    if (!identical(as.integer(got), as.integer(want)))
      bad_arg("weights[[%d]] (%s) has shape %s, expected %s", k, names(current)[k],
              paste(got, collapse = "x"), paste(want, collapse = "x"))
    if (!all(is.finite(w))) bad_arg("weights[[%d]] (%s) holds NA, NaN or Inf", k, names(current)[k])
    storage.mode(w) <- "double"
    weights[[k]] <- w
  }
  .Call(made_r_set_weights, handle(object), unname(weights))
  invisible(object)
}

made_masks <- function(object) {
  .Call(made_r_masks, handle(object))
}

made_degrees <- function(object) {
  .Call(made_r_degrees, handle(object))
}

made_threads <- function(object, threads) {
  if (missing(threads)) return(object$threads)
  threads <- as.integer(int_arg("threads", threads, 1, 1024))
  if (inherits(object, "made_flow")) .Call(made_r_flow_set_threads, object$ptr, threads)
  else .Call(made_r_set_threads, handle(object), threads)
  object$threads <- threads
  invisible(object)
}

save_made <- function(object, path) {
  string_arg("path", path)
  if (inherits(object, "made_flow")) .Call(made_r_flow_save, object$ptr, path.expand(path))
  else .Call(made_r_save, handle(object), path.expand(path))
  invisible(object)
}

load_made <- function(path) {
  string_arg("path", path)
  path <- path.expand(path)
  if (.Call(made_r_is_flow, path)) return(new_flow(.Call(made_r_flow_load, path)))
  ptr <- .Call(made_r_load, path)
  cfg <- .Call(made_r_config, ptr)
  new_network(if (is.null(cfg$dist)) "made_network" else "made_density", ptr)
}

made_free <- function(object) {
  if (inherits(object, "made_flow")) .Call(made_r_flow_free, object$ptr)
  else if (!is.null(object$ptr)) .Call(made_r_free, object$ptr)
  invisible(NULL)
}

# What a model or flow file records besides its parameters (`made info`'s
# "record"): binarize, epochs_run, best_epoch, stop, train_nll, val_nll.
made_record <- function(object) {
  if (inherits(object, "made_flow")) return(.Call(made_r_flow_record, object$ptr))
  if (!inherits(object, "made_network")) bad_arg("object: expected a made network or flow")
  .Call(made_r_record, handle(object))
}

made_read_data <- function(path) {
  string_arg("path", path)
  .Call(made_r_read_data, path.expand(path))
}

made_version <- function() .Call(made_r_version)
