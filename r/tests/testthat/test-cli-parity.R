# The package and the made program compute the same bits.

test_that("networks from the same options: same weights, same forward pass", {
  d <- tempfile(); dir.create(d)
  m <- file.path(d, "m.safetensors")
  run_made("init", "-o", m, "--event-size", 5, "--params", 2, "--hidden", "7,6",
           "--activation", "tanh", "--input-order", "random", "--hidden-degrees", "random",
           "--seed", 11, "--kernel-initializer", "he_normal",
           "--bias-initializer", "random_normal:0,0.1", "--conditional-size", 2)
  ours <- autoregressive_network(2, event_shape = 5, hidden_units = c(7, 6), activation = "tanh",
                                 input_order = "random", hidden_degrees = "random", seed = 11,
                                 kernel_initializer = "he_normal",
                                 bias_initializer = "random_normal:0,0.1", conditional = TRUE,
                                 conditional_event_shape = 2)
  expect_identical(get_weights(load_made(m)), get_weights(ours))
  set.seed(3)
  write_csv(matrix(rnorm(40), 8, 5), file.path(d, "x.csv"))
  write_csv(matrix(rnorm(16), 8, 2), file.path(d, "c.csv"))
  run_made("forward", m, "-i", file.path(d, "x.csv"), "-c", file.path(d, "c.csv"),
           "-o", file.path(d, "y.npy"))
  x <- made_read_data(file.path(d, "x.csv"))
  c <- made_read_data(file.path(d, "c.csv"))
  expect_identical(predict(ours, x, c), made_read_data(file.path(d, "y.npy")))
})

parity_case <- function(dist, x, cli_args, r_args, threads = 1) {
  d <- tempfile(); dir.create(d)
  xf <- write_csv(x, file.path(d, "x.csv"))
  x <- made_read_data(xf)
  m <- file.path(d, "m.safetensors")
  run_made("train", xf, "-o", m, "--dist", dist, "-q", "-t", threads, cli_args)
  ours <- do.call(made_fit, c(list(data = x, dist = dist, threads = threads), r_args))
  expect_identical(get_weights(ours), get_weights(load_made(m)))
  run_made("logprob", m, xf, "-o", file.path(d, "lp.npy"), "-t", threads)
  expect_identical(as_float(log_prob(ours, x)), as.vector(made_read_data(file.path(d, "lp.npy"))))
  ev <- run_made("eval", m, xf, "--json")
  nll <- as.numeric(sub('.*"nll_nats":([^,]*),.*', "\\1", ev))
  expect_identical(sprintf("%.9g", made_nll(ours, x)), sprintf("%.9g", nll))
  run_made("sample", m, "-n", 7, "--seed", 12, "-o", file.path(d, "s.npy"), "-t", threads)
  expect_identical(sample(ours, 7, seed = 12), made_read_data(file.path(d, "s.npy")))
}

test_that("training, scores and samples equal the program's (1 and 2 threads)", {
  # R's own BLAS is loaded and has run before made computes anything here.
  invisible(crossprod(matrix(rnorm(90000), 300)))
  for (threads in 1:2) {
    parity_case("bernoulli", binary_data(240, 6, seed = 7),
                c("--hidden", "16", "--epochs", 3, "--seed", 3, "--val-fraction", 0.2,
                  "--batch-size", 32),
                list(hidden_units = 16, epochs = 3, seed = 3, val_fraction = 0.2, batch_size = 32),
                threads)
  }
  set.seed(1)
  parity_case("gaussian", matrix(rnorm(240 * 4), 240, 4),
              c("--hidden", "10", "--epochs", 4, "--lr-schedule", "cosine", "--patience", 1,
                "--val-fraction", 0.25, "--activation", "tanh", "--seed", 5),
              list(hidden_units = 10, epochs = 4, lr_schedule = "cosine", patience = 1,
                   val_fraction = 0.25, activation = "tanh", seed = 5))
  parity_case("bernoulli", binary_data(200, 5, seed = 2),
              c("--hidden", "12,12", "--epochs", 2, "--masks", 3, "--input-order", "random",
                "--optimizer", "sgd", "--lr", 0.05, "--lr-schedule", "step:1:0.5", "--seed", 9,
                "--clip-norm", 1.5, "--weight-decay", 0.01),
              list(hidden_units = c(12, 12), epochs = 2, masks = 3, input_order = "random",
                   optimizer = "sgd", lr = 0.05, lr_schedule = "step:1:0.5", seed = 9,
                   clip_norm = 1.5, weight_decay = 0.01), threads = 2)
})

test_that("binarize and grey-level arrays flattened as the program flattens them", {
  d <- tempfile(); dir.create(d)
  set.seed(0)
  g <- matrix(sample(0:255, 120 * 9, replace = TRUE), 120, 9)
  xf <- write_csv(g, file.path(d, "g.csv"))
  m <- file.path(d, "m.safetensors")
  run_made("train", xf, "-o", m, "--dist", "bernoulli", "--binarize", 127.5, "--hidden", "5",
           "--epochs", 2, "-q")
  ours <- made_fit(xf, binarize = 127.5, hidden_units = 5, epochs = 2)
  expect_identical(get_weights(ours), get_weights(load_made(m)))
  # A [n, 3, 3] array: row i flattened in C order, as .npy files are.
  a <- array(0, c(120, 3, 3))
  for (r in 1:3) for (cc in 1:3) a[, r, cc] <- g[, (r - 1) * 3 + cc]
  ours2 <- made_fit(a, binarize = 127.5, hidden_units = 5, epochs = 2)
  expect_identical(get_weights(ours2), get_weights(ours))
})

test_that("a model's record is the one made info --json shows", {
  d <- tempfile(); dir.create(d)
  set.seed(1)
  xf <- write_csv(matrix(runif(80 * 6), 80, 6), file.path(d, "x.csv"))
  m <- file.path(d, "m.safetensors")
  run_made("train", xf, "-o", m, "--dist", "bernoulli", "--binarize", 0.5, "--hidden", "8",
           "--epochs", 2, "--val-fraction", 0.25, "-q")
  r <- made_record(load_made(m))
  expect_record_is_info(r, m)
  expect_identical(c(r$binarize, r$epochs_run), c(0.5, 2))
})
