# density.R - made_fit() with the options of `made train`, and scoring and
# sampling of density models.

fit_defaults <- list(
  dist = "bernoulli", params = NULL, hidden_units = 500, input_order = "left-to-right",
  hidden_degrees = "equal", activation = "relu", use_bias = TRUE,
  kernel_initializer = "glorot_uniform", bias_initializer = "zeros",
  conditional_input_layers = "all_layers", validate_args = FALSE, masks = 1, epochs = 10,
  batch_size = 100, lr = 1e-3, optimizer = "adam", momentum = 0.9, weight_decay = 0,
  clip_norm = 0, lr_schedule = "constant", patience = 0, resample_every = 1, seed = 0,
  flow = NULL
)

made_fit <- function(data, dist = "bernoulli", conditional = NULL, params = NULL,
                     hidden_units = 500, input_order = "left-to-right",
                     hidden_degrees = "equal", activation = "relu", use_bias = TRUE,
                     kernel_initializer = "glorot_uniform", bias_initializer = "zeros",
                     conditional_input_layers = "all_layers", validate_args = FALSE,
                     masks = 1, epochs = 10, batch_size = 100, lr = 1e-3,
                     optimizer = "adam", momentum = 0.9, weight_decay = 0, clip_norm = 0,
                     lr_schedule = "constant", val_fraction = 0, val = NULL,
                     val_conditional = NULL, patience = 0, resample_every = 1,
                     binarize = NULL, seed = 0, threads = 1, checkpoint = NULL,
                     resume = NULL, progress = NULL, verbose = FALSE, flow = NULL, ...) {
  fopts <- split_flow_options(list(...))
  if (!is.null(progress) && !is.function(progress))
    bad_arg("progress: expected a function, got %s", show_value(progress))
  flag_arg("verbose", verbose)
  binarize <- if (is.null(binarize)) NA_real_ else real_arg("binarize", binarize, -1e30, 1e30)
  threads <- as.integer(int_arg("threads", threads, 1, 1024))
  val_fraction <- real_arg("val_fraction", val_fraction, 0, 0.99)
  if (val_fraction > 0 && !is.null(val)) bad_arg("give val_fraction or val, not both")
  if (!identical(patience, 0) && !identical(patience, 0L) && val_fraction == 0 && is.null(val))
    bad_arg("patience needs validation data (val_fraction or val)")
  if (!is.null(checkpoint)) checkpoint <- path.expand(string_arg("checkpoint", checkpoint))
  x <- rows_arg("data", data)
  if (nrow(x) == 0L) bad_arg("data: no rows of data")
  c <- NULL
  if (!is.null(conditional)) {
    c <- rows_arg("conditional", conditional)
    if (nrow(c) != nrow(x)) bad_arg("conditional has %d rows but data has %d", nrow(c), nrow(x))
  }
  cc <- if (is.null(c)) 0L else ncol(c)
  xv <- cv <- NULL
  if (!is.null(val)) {
    xv <- rows_arg("val", val, ncol(x))
    if (cc && is.null(val_conditional)) bad_arg("val with a conditional model needs val_conditional")
  }
  if (!is.null(val_conditional)) {
    if (is.null(val) || !cc) bad_arg("val_conditional needs val and a conditional model")
    cv <- rows_arg("val_conditional", val_conditional, cc)
    if (nrow(cv) != nrow(xv)) bad_arg("val_conditional has %d rows but val has %d", nrow(cv), nrow(xv))
  }
  margs <- targs <- fields <- NULL
  if (!is.null(resume)) {
    given <- as.list(match.call())[-1]
    fixed <- intersect(names(given), c(names(fit_defaults), names(flow_options)))
    for (k in fixed)
      if (!(k %in% names(fit_defaults)) || !identical(eval(given[[k]], parent.frame()), fit_defaults[[k]]))
        bad_arg("%s cannot be changed when resuming (the checkpoint holds the run's settings)", k)
    resume <- path.expand(string_arg("resume", resume))
  } else {
    if (!is.null(flow)) {
      if (!missing(dist) || !is.null(params) || !identical(masks, 1))
        bad_arg("flow sets the layers' outputs (shift and log-scale) and the base (standard normal): dist, params and masks do not apply")
      spec <- parse_flow(flow)
      fields <- flow_fields(spec$kind, spec$num_layers, fopts, ncol(x))
      dist <- "gaussian"
      params <- 2
    } else if (length(fopts)) {
      bad_arg("%s applies to flows (flow = \"maf:K\")", names(fopts)[1])
    }
    margs <- fit_model_args(dist, params, hidden_units, input_order, hidden_degrees, activation,
                            use_bias, kernel_initializer, bias_initializer,
                            conditional_input_layers, validate_args, masks, seed, ncol(x))
    if (!is.null(flow)) margs["dist"] <- list(NULL)
    targs <- fit_train_args(epochs, batch_size, lr, optimizer, momentum, weight_decay,
                            clip_norm, lr_schedule, patience, resample_every, seed)
  }
  fn <- progress_wrapper(progress, verbose)
  res <- .Call(made_r_fit, x, c, margs, targs, xv, cv, val_fraction, binarize, threads,
               checkpoint, resume, fn, fields)
  model <- if (res$flow) new_flow(res$model) else new_network("made_density", res$model)
  model$threads <- threads
  if (res$status == "callback") stop(res$condition)
  if (res$status == "interrupted")
    stop(structure(class = c("made_interrupted", "interrupt", "condition"),
                   list(message = "training interrupted", call = NULL)))
  model
}

# The progress function under tryCatch: returns NULL to go on, or the
# condition (error or interrupt) that stops training and that made_fit re-signals.
progress_wrapper <- function(progress, verbose) {
  if (is.null(progress) && !verbose) return(NULL)
  function(p) {
    tryCatch({
      if (verbose && p$epoch_done)
        message(sprintf("epoch %d/%d  train %.4f%s  %.0f ex/s  %.1f s", p$epoch, p$epochs,
                        p$train_nll,
                        if (is.na(p$val_nll)) "" else sprintf("  val %.4f%s", p$val_nll,
                                                               if (p$improved) " *" else ""),
                        p$examples_per_sec, p$seconds))
      if (!is.null(progress)) progress(p)
      NULL
    }, error = function(e) e, interrupt = function(e) e)
  }
}

fit_model_args <- function(dist, params, hidden_units, input_order, hidden_degrees, activation,
                           use_bias, kernel_initializer, bias_initializer,
                           conditional_input_layers, validate_args, masks, seed, cols) {
  order <- order_arg(input_order)
  if (!is.null(order$order) && length(order$order) != cols)
    bad_arg("input_order: %d entries, but the data has %d values per row", length(order$order), cols)
  list(
    params = if (is.null(params)) 0L else as.integer(int_arg("params", params, 1, 1e6)),
    hidden_units = units_arg(hidden_units),
    order_kind = order$kind, order = order$order,
    hidden_degrees = match(choice_arg("hidden_degrees", hidden_degrees, c("equal", "random")),
                           c("equal", "random")) - 1L,
    activation = if (is.null(activation)) "linear" else string_arg("activation", activation),
    use_bias = flag_arg("use_bias", use_bias),
    kernel_initializer = initializer_arg("kernel_initializer", kernel_initializer),
    bias_initializer = initializer_arg("bias_initializer", bias_initializer),
    conditional_input_layers = choice_arg("conditional_input_layers", conditional_input_layers,
                                          c("all_layers", "first_layer")),
    validate_args = flag_arg("validate_args", validate_args),
    seed = seed_arg(seed), dist = string_arg("dist", dist),
    masks = as.integer(int_arg("masks", masks, 1, 4096))
  )
}

fit_train_args <- function(epochs, batch_size, lr, optimizer, momentum, weight_decay,
                           clip_norm, lr_schedule, patience, resample_every, seed) {
  string_arg("lr_schedule", lr_schedule)
  sched <- 0L
  decay_epochs <- 10L
  decay_rate <- 0.5
  if (lr_schedule == "cosine") {
    sched <- 1L
  } else if (lr_schedule != "constant") {
    parts <- strsplit(lr_schedule, ":", fixed = TRUE)[[1]]
    de <- suppressWarnings(as.integer(parts[2]))
    rate <- suppressWarnings(as.numeric(parts[3]))
    if (length(parts) != 3L || parts[1] != "step" || is.na(de) || is.na(rate) ||
        de < 1L || !(rate > 0 && rate <= 1) || as.character(de) != parts[2])
      bad_arg("lr_schedule: \"%s\" (expected constant, cosine, or step:EPOCHS:RATE with RATE in (0, 1], e.g. step:10:0.5)",
              lr_schedule)
    sched <- 2L
    decay_epochs <- de
    decay_rate <- rate
  }
  list(
    epochs = as.integer(int_arg("epochs", epochs, 1, 1e6)),
    batch_size = as.integer(int_arg("batch_size", batch_size, 1, 1e6)),
    lr = real_arg("lr", lr, 1e-12, 10),
    optimizer = match(choice_arg("optimizer", optimizer, c("adam", "sgd")), c("adam", "sgd")) - 1L,
    momentum = real_arg("momentum", momentum, 0, 0.999999),
    weight_decay = real_arg("weight_decay", weight_decay, 0, 0.999999),
    clip_norm = real_arg("clip_norm", clip_norm, 0, 1e30),
    schedule = sched, decay_epochs = decay_epochs, decay_rate = decay_rate,
    patience = as.integer(int_arg("patience", patience, 0, 1e6)),
    resample_every = as.integer(int_arg("resample_every", resample_every, 1, 1e9)),
    seed = seed_arg(seed)
  )
}

masks_arg <- function(object, masks) {
  n <- made_config(object)$num_masks
  if (is.null(masks)) return(n)
  as.integer(int_arg("masks", masks, 0, n))
}

log_prob <- function(object, x, ...) UseMethod("log_prob")

log_prob.made_density <- function(object, x, conditional = NULL, masks = NULL, ...) {
  cfg <- made_config(object)
  k <- masks_arg(object, masks)
  x <- rows_arg("x", x, cfg$event_size)
  c <- conditional_rows(cfg, conditional, nrow(x), "conditional")
  .Call(made_r_log_prob, handle(object), x, c, k)
}

made_nll <- function(object, x, conditional = NULL, masks = NULL, seed = 0) {
  if (inherits(object, "made_flow")) {
    if (!is.null(masks)) bad_arg("masks: a flow has one mask set per layer")
    info <- flow_info(object)
    x <- flow_rows(object, x, seed)
    if (nrow(x) == 0L) bad_arg("x: no examples")
    return(.Call(made_r_flow_nll, object$ptr, x, flow_conditional(info, conditional, nrow(x))))
  }
  if (!inherits(object, "made_density")) bad_arg("object: expected a made density model or flow")
  cfg <- made_config(object)
  k <- masks_arg(object, masks)
  x <- rows_arg("x", x, cfg$event_size)
  if (nrow(x) == 0L) bad_arg("x: no examples")
  c <- conditional_rows(cfg, conditional, nrow(x), "conditional")
  .Call(made_r_nll, handle(object), x, c, k)
}

sample <- function(x, size, ...) UseMethod("sample")

sample.default <- function(x, size, replace = FALSE, prob = NULL, ...) {
  base::sample(x, size, replace, prob)
}

sample.made_density <- function(x, size, seed = 0, conditional = NULL, mask = NULL,
                                naive = FALSE, ...) {
  cfg <- made_config(x)
  size <- int_arg("size", size, 0, 2^31 - 1)
  seed <- seed_arg(seed, 2^53)
  flag_arg("naive", naive)
  if (!is.null(mask)) .Call(made_r_set_mask, handle(x), as.integer(int_arg("mask", mask, 0, 4095)))
  c <- conditional_rows(cfg, conditional, size, "conditional")
  .Call(made_r_sample, handle(x), size, c, seed, naive)
}

made_mask_index <- function(object, k) {
  if (missing(k)) return(made_config(object)$mask_index)
  .Call(made_r_set_mask, handle(object), as.integer(int_arg("k", k, 0, 4095)))
  invisible(object)
}
