test_that("bad network arguments are made_error conditions naming the argument", {
  bad <- list(
    list(list(params = 0), "params"), list(list(params = 1.5), "params"),
    list(list(params = "2"), "params"), list(list(params = NA), "params"),
    list(list(event_shape = 0), "event_shape"), list(list(event_shape = c(2, 3)), "rank-1"),
    list(list(event_shape = "3"), "event_shape"),
    list(list(hidden_units = c(4, 0)), "hidden_units\\[2\\]"),
    list(list(hidden_units = rep(1, 33)), "at most 32"),
    list(list(hidden_units = "4"), "hidden_units"),
    list(list(input_order = "up"), "input_order"), list(list(input_order = c(0, 1, 2)), "1-based"),
    list(list(input_order = c(1, 1, 2)), "input_order"), list(list(input_order = c(1, 2)), "2 entries"),
    list(list(input_order = c(1.5, 2, 3)), "input_order"),
    list(list(hidden_degrees = "uniform"), "hidden_degrees"),
    list(list(activation = "nope"), "activation"), list(list(activation = tanh), "activation"),
    list(list(use_bias = NA), "use_bias"), list(list(use_bias = "yes"), "use_bias"),
    list(list(kernel_initializer = "magic"), "initializer"),
    list(list(bias_initializer = "random_uniform:1,0"), "initializer"),
    list(list(validate_args = 1), "validate_args"),
    list(list(conditional = TRUE), "conditional_event_shape"),
    list(list(conditional_event_shape = 2), "conditional is FALSE"),
    list(list(conditional = TRUE, conditional_event_shape = 2, conditional_input_layers = "last"),
         "conditional_input_layers"),
    list(list(seed = -1), "seed"), list(list(seed = 2^32), "seed"),
    list(list(kernel_regularizer = "l2"), "kernel_regularizer"),
    list(list(dtype = "float64"), "dtype"),
    list(list(units = 3), "unknown argument 'units'")
  )
  for (b in bad) {
    args <- utils::modifyList(list(params = 2, event_shape = 3, hidden_units = 4), b[[1]])
    expect_error(do.call(autoregressive_network, args), b[[2]], class = "made_error")
  }
  expect_error(autoregressive_network(2, 3, NULL, "left-to-right", "equal", NULL, TRUE,
                                      "glorot_uniform", FALSE, 5), "named", class = "made_error")
})

test_that("bad inputs to predict", {
  net <- autoregressive_network(2, event_shape = 3, hidden_units = 4)
  expect_error(predict(net, NULL), "NULL", class = "made_error")
  expect_error(predict(net, "abc"), class = "made_error")
  expect_error(predict(net, matrix(1, 2, 4)), "3", class = "made_error")
  expect_error(predict(net, list(1, 2, 3)), class = "made_error")
  expect_error(predict(net, data.frame(a = "x", b = 1, c = 2)), "numeric", class = "made_error")
  expect_error(predict(net, matrix(1, 2, 3), conditional_input = matrix(1, 2, 2)),
               "not conditional", class = "made_error")
  x <- matrix(1, 3, 3)
  x[2, 1] <- NA
  expect_true(anyNA(predict(net, x)))  # as TFP: NaN flows through without validate_args
  v <- autoregressive_network(2, event_shape = 3, hidden_units = 4, validate_args = TRUE)
  expect_error(predict(v, x), "row 2, column 1", class = "made_nonfinite")
  c1 <- autoregressive_network(1, event_shape = 3, conditional = TRUE, conditional_event_shape = 2)
  expect_error(predict(c1, matrix(1, 2, 3)), "must be given", class = "made_error")
  expect_error(predict(c1, matrix(1, 2, 3), matrix(1, 3, 2)), "3 rows", class = "made_error")
})

test_that("files: errors are conditions and existing files survive", {
  d <- tempfile()
  dir.create(d)
  expect_error(load_made(file.path(d, "missing.safetensors")), "missing", class = "made_io")
  writeBin(raw(40), file.path(d, "junk.safetensors"))
  expect_error(load_made(file.path(d, "junk.safetensors")), class = "made_error")
  net <- autoregressive_network(1, event_shape = 2)
  expect_error(save_made(net, d), class = "made_error")
  expect_error(save_made(net, file.path(d, "no", "such.safetensors")), class = "made_error")
  expect_error(save_made(net, 5), "path", class = "made_error")
  writeLines(c("1,2", "3,NA"), file.path(d, "bad.csv"))
  expect_error(made_fit(file.path(d, "bad.csv")), "row 2, column 2", class = "made_error")
  f <- tempfile()
  saveRDS(net, f)
  expect_error(predict(readRDS(f), matrix(1, 1, 2)), "save_made", class = "made_error")
})

test_that("bad training arguments", {
  x <- binary_data(40, 4)
  bad <- list(
    list(list(dist = "poisson"), "distribution"), list(list(dist = "categorical"), "count"),
    list(list(epochs = 0), "epochs"), list(list(batch_size = 0), "batch_size"),
    list(list(lr = 0), "lr"), list(list(optimizer = "rmsprop"), "optimizer"),
    list(list(momentum = 1), "momentum"), list(list(weight_decay = -1), "weight_decay"),
    list(list(clip_norm = -1), "clip_norm"), list(list(lr_schedule = "step:0:0.5"), "lr_schedule"),
    list(list(lr_schedule = "step:2:1.5"), "lr_schedule"), list(list(lr_schedule = "linear"), "lr_schedule"),
    list(list(val_fraction = 1), "val_fraction"), list(list(val_fraction = 0.001), "leaves no"),
    list(list(val_fraction = 0.1, val = x), "not both"), list(list(patience = 2), "patience"),
    list(list(resample_every = 0), "resample_every"), list(list(binarize = "x"), "binarize"),
    list(list(threads = 0), "threads"), list(list(masks = 0), "masks"),
    list(list(masks = 2), "identical"), list(list(seed = 2^32), "seed"),
    list(list(input_order = c(1, 2)), "2 entries"), list(list(progress = 5), "progress"),
    list(list(val = matrix(0, 2, 5)), "5 values"), list(list(val = matrix(0.5, 2, 4)), "support"),
    list(list(val_conditional = matrix(1, 2, 1)), "val_conditional"),
    list(list(conditional = matrix(1, 7, 1)), "7 rows"),
    list(list(resume = "/nonexistent/ckpt", epochs = 1), "cannot be changed"),
    list(list(resume = "/nonexistent/ckpt"), "nonexistent")
  )
  for (b in bad) {
    args <- utils::modifyList(list(data = x, hidden_units = 3), b[[1]])
    if (!is.null(b[[1]]$resume)) args$hidden_units <- NULL
    expect_error(do.call(made_fit, args), b[[2]], class = "made_error")
  }
  expect_error(made_fit(matrix(c(0, 1, 2), 1, 3)), "row 1, column 3", class = "made_domain")
  expect_error(made_fit(rbind(c(0, 1), c(Inf, 0))), "row 2, column 1", class = "made_error")
  expect_error(made_fit(NULL), "NULL", class = "made_error")
  expect_error(made_fit(matrix(0, 0, 3)), "no rows", class = "made_error")
})

test_that("bad scoring and sampling arguments", {
  m <- made_fit(binary_data(50, 3), hidden_units = 2, epochs = 1)
  expect_error(log_prob(m, matrix(c(0, 0.5, 1), 1)), "row 1, column 2", class = "made_domain")
  expect_error(log_prob(m, matrix(0, 1, 3), masks = 2), "masks", class = "made_error")
  expect_error(made_nll(m, matrix(0, 1, 4)), "3", class = "made_error")
  expect_error(made_nll(m, matrix(0, 0, 3)), "no examples", class = "made_error")
  expect_error(sample(m, 2, conditional = c(1, 2)), "not conditional", class = "made_error")
  for (n in list(-1, 2.5, NULL, "3", NA)) expect_error(sample(m, n), class = "made_error")
  expect_error(sample(m, 2, seed = -3), "seed", class = "made_error")
  expect_error(sample(m, 2, mask = 1), class = "made_error")
  expect_identical(dim(sample(m, 0)), c(0L, 3L))
  expect_error(made_nll(autoregressive_network(1, event_shape = 3), matrix(0, 1, 3)),
               "density", class = "made_error")
})
