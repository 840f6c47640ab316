test_that("a Bernoulli model sums to one over every binary vector", {
  x <- binary_data(300, 5)
  m <- made_fit(x, hidden_units = 7, epochs = 2, seed = 1)
  every <- as.matrix(expand.grid(rep(list(0:1), 5)))
  expect_lt(abs(sum(exp(log_prob(m, every))) - 1), 1e-6)
  expect_lt(abs(made_nll(m, x) + mean(log_prob(m, x))), 1e-9)
})

test_that("progress is called; an error there stops training and is re-signalled", {
  seen <- list()
  made_fit(binary_data(100, 4), hidden_units = 3, epochs = 2, batch_size = 30, val_fraction = 0.2,
           progress = function(p) seen[[length(seen) + 1]] <<- p)
  ends <- Filter(function(p) p$epoch_done, seen)
  expect_identical(vapply(ends, function(p) p$epoch, 1L), 1:2)
  expect_false(anyNA(vapply(ends, function(p) p$val_nll, 1)))
  expect_length(Filter(function(p) !p$epoch_done, seen), 6)
  steps <- 0
  expect_error(made_fit(binary_data(100, 4), hidden_units = 3, epochs = 5, batch_size = 10,
                        progress = function(p) { steps <<- p$step; if (p$step == 2) stop("enough") }),
               "enough")
  expect_identical(steps, 2)
})

test_that("an interrupt stops training; the checkpoint resumes bit for bit", {
  x <- binary_data(400, 6)
  whole <- made_fit(x, hidden_units = 10, epochs = 4, batch_size = 20, seed = 3, val_fraction = 0.1)
  ckpt <- tempfile(fileext = ".ckpt")
  cond <- tryCatch(
    made_fit(x, hidden_units = 10, epochs = 4, batch_size = 20, seed = 3, val_fraction = 0.1,
             checkpoint = ckpt, progress = function(p) {
               if (p$step == 27) { tools::pskill(Sys.getpid(), tools::SIGINT); Sys.sleep(0.5) }
             }),
    interrupt = function(e) e)
  expect_s3_class(cond, "interrupt")
  expect_true(file.exists(ckpt))
  resumed <- made_fit(x, resume = ckpt, val_fraction = 0.1)
  expect_identical(get_weights(resumed), get_weights(whole))
})

test_that("order-agnostic models: mixture over mask sets", {
  x <- binary_data(200, 4)
  m <- made_fit(x, hidden_units = 8, epochs = 1, masks = 3, input_order = "random",
                hidden_degrees = "random", seed = 4)
  expect_identical(made_mask_index(m), 0L)
  lps <- sapply(0:2, function(k) { made_mask_index(m, k); log_prob(m, x, masks = 0) })
  made_mask_index(m, 0)
  mx <- apply(lps, 1, max)
  ref <- mx + log(rowSums(exp(lps - mx))) - log(3)
  expect_equal(log_prob(m, x), ref, tolerance = 1e-9)
})

test_that("samples: same seed, same samples; they follow the model", {
  x <- matrix(rep(c(1, 0, 1, 1), each = 400), 400, 4)
  m <- made_fit(x, hidden_units = 4, epochs = 30, lr = 0.05)
  s <- sample(m, 200, seed = 5)
  expect_identical(dim(s), c(200L, 4L))
  expect_gt(mean(apply(s, 1, function(r) all(r == c(1, 0, 1, 1)))), 0.9)
  expect_identical(s, sample(m, 200, seed = 5))
  expect_identical(sample(m, 50, seed = 2, naive = TRUE), sample(m, 50, seed = 2))
  expect_identical(sort(sample(1:5)), 1:5)  # base::sample still works
})

test_that("an interrupt without a progress function stops training too", {
  x <- binary_data(2000, 20)
  # Another process sends SIGINT while libmade trains (about 30 s uninterrupted).
  system(sprintf("(sleep 1; kill -INT %d)", Sys.getpid()), wait = FALSE)
  t0 <- Sys.time()
  cond <- tryCatch(made_fit(x, hidden_units = 64, epochs = 1500, batch_size = 10),
                   interrupt = function(e) e)
  expect_s3_class(cond, "made_interrupted")
  expect_lt(as.numeric(difftime(Sys.time(), t0, units = "secs")), 20)
})
