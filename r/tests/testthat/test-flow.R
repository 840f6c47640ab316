# Flows: made_fit(..., flow = "maf:K") and made_flow() give the program's bits;
# both directions with log-determinants; layers, permutations, batch norm;
# files; bad arguments; interrupts.

moons <- function(n = 240, seed = 0) {
  set.seed(seed)
  t <- runif(n) * pi
  up <- runif(n) < 0.5
  cbind(ifelse(up, cos(t), 1 - cos(t)), ifelse(up, sin(t), 0.5 - sin(t))) +
    0.1 * matrix(rnorm(2 * n), n, 2)
}

wide <- function(n = 200, e = 4, seed = 1) {
  set.seed(seed)
  z <- rnorm(n)
  matrix(rnorm(n * e) * 0.5, n, e) + outer(z, seq_len(e)) + 3
}

flow_weights <- function(f) lapply(flow_layers(f), get_weights)

flow_parity <- function(x, cli_args, r_args, cond = NULL, threads = 1) {
  d <- tempfile(); dir.create(d)
  xf <- write_csv(x, file.path(d, "x.csv"))
  x <- made_read_data(xf)
  cargs <- character(0)
  if (!is.null(cond)) {
    cargs <- c("-c", write_csv(cond, file.path(d, "c.csv")))
    cond <- made_read_data(file.path(d, "c.csv"))
  }
  m <- file.path(d, "f.safetensors")
  run_made("train", xf, "-o", m, "-q", "-t", threads, cargs, cli_args)
  ours <- do.call(made_fit, c(list(data = x, conditional = cond, threads = threads), r_args))
  theirs <- load_made(m)
  expect_s3_class(ours, "made_flow")
  expect_s3_class(theirs, "made_flow")
  expect_identical(flow_weights(ours), flow_weights(theirs))
  expect_identical(flow_batch_norm(ours), flow_batch_norm(theirs))
  expect_identical(flow_standardization(ours), flow_standardization(theirs))
  expect_identical(flow_permutations(ours), flow_permutations(theirs))
  run_made("logprob", m, xf, "-o", file.path(d, "lp.npy"), "--seed", 9, "-t", threads, cargs)
  expect_identical(as_float(log_prob(ours, x, conditional = cond, seed = 9)),
                   as.vector(made_read_data(file.path(d, "lp.npy"))))
  ev <- run_made("eval", m, xf, "--json", cargs)
  nll <- as.numeric(sub('.*"nll_nats":([^,]*),.*', "\\1", ev))
  expect_identical(sprintf("%.9g", made_nll(ours, x, conditional = cond)), sprintf("%.9g", nll))
  sargs <- character(0)
  if (!is.null(cond)) sargs <- c("-c", write_csv(cond[1, , drop = FALSE], file.path(d, "c1.csv")))
  run_made("sample", m, "-n", 6, "--seed", 12, "-o", file.path(d, "s.npy"), "-t", threads, sargs)
  expect_identical(sample(ours, 6, seed = 12, conditional = if (is.null(cond)) NULL else cond[1, ]),
                   made_read_data(file.path(d, "s.npy")))
  save_made(ours, file.path(d, "r.safetensors"))
  expect_true(any(grepl(paste(made:::flow_info(ours)$kind, "flow"),
                        run_made("info", file.path(d, "r.safetensors")))))
}

test_that("flow training, scores and samples equal the program's (1 and 2 threads)", {
  invisible(crossprod(matrix(rnorm(90000), 300)))  # R's BLAS has run first
  for (threads in 1:2) {
    flow_parity(moons(),
                c("--flow", "maf:3", "--hidden", "16,16", "--batch-norm", "--epochs", 2,
                  "--val-fraction", 0.2, "--batch-size", 32, "--seed", 3),
                list(flow = "maf:3", hidden_units = c(16, 16), batch_norm = TRUE, epochs = 2,
                     val_fraction = 0.2, batch_size = 32, seed = 3), threads = threads)
  }
  set.seed(5)
  flow_parity(wide(),
              c("--flow", "maf:2", "--hidden", "12", "--permutation", "random", "--scale",
                "softplus", "--standardize", "--epochs", 2, "--activation", "tanh", "--seed", 7,
                "--conditional-layers", "first_layer"),
              list(flow = "maf:2", hidden_units = 12, permutation = "random", scale = "softplus",
                   standardize = TRUE, epochs = 2, activation = "tanh", seed = 7,
                   conditional_input_layers = "first_layer"),
              cond = matrix(rnorm(400), 200, 2))
  flow_parity(wide(),
              c("--flow", "maf:2", "--hidden", "10,8", "--permutation", "2,0,3,1", "--scale",
                "softclip", "--epochs", 3, "--input-order", "random", "--seed", 5,
                "--optimizer", "sgd", "--lr", 0.01, "--batch-norm"),
              list(flow = "maf:2", hidden_units = c(10, 8), permutation = c(2, 0, 3, 1),
                   scale = "softclip", epochs = 3, input_order = "random", seed = 5,
                   optimizer = "sgd", lr = 0.01, batch_norm = TRUE))
  set.seed(11)
  z <- runif(160)
  pixels <- round(pmin(pmax(matrix(rnorm(160 * 9) * 40, 160, 9) + 255 * z, 0), 255))
  flow_parity(pixels,
              c("--flow", "maf:1", "--hidden", "9", "--dequantize", "--logit", 1e-6, "--epochs",
                2, "--seed", 2, "--val-fraction", 0.25),
              list(flow = "maf:1", hidden_units = 9, dequantize = TRUE, logit = 1e-6, epochs = 2,
                   seed = 2, val_fraction = 0.25))
  flow_parity(moons(),
              c("--flow", "iaf:2", "--hidden", "10", "--batch-norm", "--epochs", 2, "--seed", 8,
                "--scale", "softclip", "--val-fraction", 0.2),
              list(flow = "iaf:2", hidden_units = 10, batch_norm = TRUE, epochs = 2, seed = 8,
                   scale = "softclip", val_fraction = 0.2))
  flow_parity(wide(),
              c("--flow", "maf:3", "--hidden", "12", "--share-weights", "--standardize",
                "--epochs", 2, "--seed", 9, "--conditional-layers", "first_layer"),
              list(flow = "maf:3", hidden_units = 12, share_weights = TRUE, standardize = TRUE,
                   epochs = 2, seed = 9, conditional_input_layers = "first_layer"),
              cond = matrix(rnorm(200), 200, 1))
})

test_that("both directions, log-determinants, layers and files", {
  f <- made_flow(3, num_layers = 3, hidden_units = c(8, 8), activation = "relu",
                 conditional_event_shape = 2, seed = 4, permutation = "random",
                 kernel_initializer = "random_normal:0,0.5",
                 bias_initializer = "random_normal:0,0.5")
  set.seed(0)
  z <- matrix(rnorm(15), 5, 3)
  c <- matrix(rnorm(10), 5, 2)
  fw <- flow_forward(f, z, c)
  back <- flow_inverse(f, fw$value, c)
  expect_equal(back$value, z, tolerance = 1e-4)
  expect_equal(fw$log_det, -back$log_det, tolerance = 1e-4)
  base <- -0.5 * rowSums(back$value^2) - 1.5 * log(2 * pi)
  expect_equal(log_prob(f, fw$value, c), base + back$log_det, tolerance = 1e-6)
  layers <- flow_layers(f)
  expect_length(layers, 3)
  alone <- autoregressive_network(2, event_shape = 3, hidden_units = c(8, 8),
                                  activation = "relu", conditional = TRUE,
                                  conditional_event_shape = 2, seed = 5,
                                  kernel_initializer = "random_normal:0,0.5",
                                  bias_initializer = "random_normal:0,0.5")
  expect_identical(get_weights(layers[[2]]), get_weights(alone))
  w <- get_weights(layers[[1]])
  set_weights(layers[[1]], lapply(w, function(a) a * 0.5))
  expect_false(identical(flow_forward(f, z, c), fw))
  set_weights(layers[[1]], w)
  expect_identical(flow_forward(f, z, c), fw)
  p <- tempfile(fileext = ".safetensors")
  save_made(f, p)
  g <- load_made(p)
  expect_s3_class(g, "made_flow")
  expect_identical(flow_forward(g, z, c), fw)
  expect_identical(flow_weights(g), flow_weights(f))
  expect_output(print(g), "made flow maf:3")
  expect_output(print(summary(g)), "after layer 2")
  made_free(f)
  expect_error(get_weights(layers[[1]]), "freed", class = "made_error")
  expect_error(flow_forward(f, z, c), "freed", class = "made_error")
})

test_that("batch norm and standardisation parameters", {
  f <- made_flow(2, num_layers = 2, hidden_units = 4, batch_norm = TRUE, standardize = TRUE)
  expect_length(flow_batch_norm(f), 2)
  flow_set_batch_norm(f, 2, mean = c(1, 2), variance = c(4, 9), gamma = c(0, 0), beta = c(0.5, 0))
  expect_identical(flow_batch_norm(f)[[2]]$variance, c(4, 9))
  expect_identical(flow_standardization(f), list(mean = c(0, 0), std = c(1, 1)))
  expect_error(flow_set_batch_norm(f, 3, 0, 0, 0, 0), "layer", class = "made_error")
  expect_error(flow_set_batch_norm(f, 1, c(0, 0), c(1, 1, 1), c(0, 0), c(0, 0)), "variance",
               class = "made_error")
  expect_null(flow_batch_norm(made_flow(2)))
})

test_that("an interrupt stops flow training; the checkpoint resumes bit for bit", {
  x <- moons(300)
  args <- list(x, flow = "maf:2", hidden_units = 8, batch_norm = TRUE, epochs = 3,
               batch_size = 30, seed = 1)
  whole <- do.call(made_fit, args)
  ckpt <- tempfile(fileext = ".ckpt")
  cond <- tryCatch(
    do.call(made_fit, c(args, list(checkpoint = ckpt, progress = function(p) {
      if (p$step == 14) { tools::pskill(Sys.getpid(), tools::SIGINT); Sys.sleep(0.5) }
    }))),
    interrupt = function(e) e)
  expect_s3_class(cond, "interrupt")
  resumed <- made_fit(x, resume = ckpt)
  expect_s3_class(resumed, "made_flow")
  expect_identical(flow_weights(resumed), flow_weights(whole))
  expect_identical(flow_batch_norm(resumed), flow_batch_norm(whole))
  expect_error(made_fit(x, resume = ckpt, batch_norm = TRUE), "cannot be changed",
               class = "made_error")
})

test_that("bad flow arguments are R conditions naming them", {
  x <- moons(40) * 3
  bad <- list(
    list(list(flow = "maf"), "flow"), list(list(flow = "maf:0"), "flow"),
    list(list(flow = "glow:2"), "flow"), list(list(flow = 3), "flow"),
    list(list(flow = "maf:2", dist = "gaussian"), "do not apply"),
    list(list(flow = "maf:2", masks = 2), "do not apply"),
    list(list(flow = "maf:2", permutation = "sideways"), "permutation"),
    list(list(flow = "maf:2", permutation = "explicit"), "permutation"),
    list(list(flow = "maf:2", permutation = c(0, 0)), "twice"),
    list(list(flow = "maf:2", permutation = c(0, 2)), "permutation"),
    list(list(flow = "maf:2", permutation = 1), "1 entries"),
    list(list(flow = "maf:2", batch_norm = "yes"), "batch_norm"),
    list(list(flow = "maf:2", scale = "tanh"), "scale"),
    list(list(flow = "maf:2", standardize = NA), "standardize"),
    list(list(flow = "maf:2", logit = 0.5), "logit"),
    list(list(flow = "maf:2", standardize = TRUE, logit = 1e-6), "not both"),
    list(list(flow = "maf:2", dequantize = TRUE), "dequantize needs logit"),
    list(list(flow = "maf:2", logit = 1e-6), "outside"),
    list(list(flow = "maf:2", logit = 1e-6, dequantize = TRUE), "integers 0..255"),
    list(list(flow = "maf:2", batch_norm = TRUE, batch_size = 1), "batch"),
    list(list(batch_norm = TRUE), "applies to flows"),
    list(list(flow = "maf:2", shuffle = TRUE), "unknown argument 'shuffle'"),
    list(list(flow = "maf:2", share_weights = "yes"), "share_weights")
  )
  for (b in bad)
    expect_error(do.call(made_fit, c(list(x, epochs = 1, hidden_units = 4), b[[1]])), b[[2]],
                 class = "made_error", info = paste(names(b[[1]]), collapse = ","))
  f <- made_flow(3, num_layers = 2, hidden_units = 4, conditional_event_shape = 2)
  z <- matrix(0, 2, 3)
  expect_error(log_prob(f, z), "layer 1", class = "made_error")
  expect_error(log_prob(f, z, conditional = matrix(0, 2, 3)), "layer 1", class = "made_error")
  expect_error(log_prob(f, z, conditional = matrix(0, 3, 2)), "3 rows", class = "made_error")
  expect_error(log_prob(f, matrix(0, 2, 4), conditional = c(0, 0)), "4 values",
               class = "made_error")
  expect_error(log_prob(f, matrix(NA, 1, 3), conditional = c(0, 0)), "nan|NA",
               class = "made_error")
  expect_error(flow_inverse(f, z), "layer 1", class = "made_error")
  expect_error(flow_forward(f, z, conditional = c(0, 0, 0)), "layer 1", class = "made_error")
  expect_error(sample(f, 3), "layer 1", class = "made_error")
  expect_error(sample(f, -1, conditional = c(0, 0)), "size", class = "made_error")
  expect_error(sample(f, 2, seed = -1, conditional = c(0, 0)), "seed", class = "made_error")
  expect_error(made_nll(f, matrix(0, 0, 3), conditional = c(0, 0)), "no examples",
               class = "made_error")
  expect_error(save_made(f, "/nonexistent-dir/f.safetensors"), "nonexistent",
               class = "made_error")
  g <- made_flow(2, hidden_units = 3)
  expect_error(log_prob(g, matrix(0, 1, 2), conditional = 1), "not conditional",
               class = "made_error")
  expect_error(made_flow(NULL), "event_shape", class = "made_error")
  expect_error(made_flow(2, num_layers = 0), "num_layers", class = "made_error")
  expect_error(made_flow(2, kind = "realnvp"), "kind", class = "made_error")
  expect_error(made_flow(2, nonsense = 1), "nonsense", class = "made_error")
  expect_error(flow_forward(autoregressive_network(2, event_shape = 2), matrix(0, 1, 2)),
               "flow", class = "made_error")
})

test_that("validation files of a dequantised flow: each epoch's figures equal the program's", {
  set.seed(12)
  z <- runif(160)
  pixels <- round(pmin(pmax(matrix(rnorm(160 * 9) * 40, 160, 9) + 255 * z, 0), 255))
  d <- tempfile(); dir.create(d)
  xf <- write_csv(pixels[1:120, ], file.path(d, "x.csv"))
  vf <- write_csv(pixels[121:160, ], file.path(d, "v.csv"))
  m <- file.path(d, "f.safetensors")
  run_made("train", xf, "--val", vf, "-o", m, "-q", "--flow", "maf:2", "--hidden", 8,
           "--dequantize", "--logit", 1e-4, "--epochs", 3, "--seed", 6, "--batch-norm",
           "--log-json", file.path(d, "log"))
  ends <- list()
  ours <- made_fit(xf, val = pixels[121:160, ], flow = "maf:2", hidden_units = 8,
                   dequantize = TRUE, logit = 1e-4, epochs = 3, seed = 6, batch_norm = TRUE,
                   progress = function(p) if (p$epoch_done) ends[[length(ends) + 1]] <<- p)
  expect_identical(flow_weights(ours), flow_weights(load_made(m)))
  log <- readLines(file.path(d, "log"))
  field <- function(name) as.numeric(sub(sprintf('.*"%s":([^,}]*).*', name), "\\1", log))
  expect_identical(sprintf("%.9g", vapply(ends, function(p) p$val_nll, 1)),
                   sprintf("%.9g", field("val_nll")))
  expect_identical(sprintf("%.9g", vapply(ends, function(p) p$train_nll, 1)),
                   sprintf("%.9g", field("train_nll")))
})

test_that("a flow's record is the one made info --json shows", {
  pixels <- round(matrix(runif(60 * 4), 60, 4) * 255)
  d <- tempfile(); dir.create(d)
  xf <- write_csv(pixels[1:40, ], file.path(d, "x.csv"))
  vf <- write_csv(pixels[41:60, ], file.path(d, "v.csv"))
  m <- file.path(d, "f.safetensors")
  run_made("train", xf, "--val", vf, "-o", m, "-q", "--flow", "maf:2", "--hidden", 8,
           "--standardize", "--epochs", 3, "--seed", 2)
  r <- made_record(load_made(m))
  expect_record_is_info(r, m)
  expect_true(is.na(r$binarize) && !is.na(r$val_nll))
  expect_identical(r$epochs_run, 3L)
  untrained <- made_record(made_flow(4, num_layers = 2))
  expect_identical(c(untrained$epochs_run, untrained$best_epoch), c(0L, 0L))
  expect_identical(untrained$stop, "none")
})
