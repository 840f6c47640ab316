numpy_like_forward <- function(net, x, c = NULL) {
  cfg <- made:::made_config(net)
  w <- get_weights(net)
  masks <- made_masks(net)
  act <- switch(cfg$activation, linear = identity, relu = function(a) pmax(a, 0), tanh = tanh)
  h <- x
  k <- 1
  for (l in seq_along(masks)) {
    a <- h %*% (w[[k]] * masks[[l]]); k <- k + 1
    if (cfg$use_bias) { a <- sweep(a, 2, w[[k]], "+"); k <- k + 1 }
    if (cfg$conditional_size && (cfg$conditional_input_layers == "all_layers" || l == 1)) {
      a <- a + c %*% w[[k]]; k <- k + 1
    }
    h <- if (l < length(masks)) act(a) else a
  }
  # Output unit (e - 1) * params + p is [e, p] (TFP's reshape).
  aperm(array(t(h), c(cfg$params, cfg$event_size, nrow(x))), c(3, 2, 1))
}

test_that("predict gives [n, E, params] and matches an independent evaluation", {
  for (act in list(NULL, "relu", "tanh")) for (order in list("left-to-right", "random", c(3, 1, 4, 2))) {
    net <- autoregressive_network(3, event_shape = 4, hidden_units = c(6, 5), input_order = order,
                                  activation = act, bias_initializer = "random_normal:0,0.3",
                                  seed = 5)
    set.seed(1)
    x <- matrix(rnorm(28), 7, 4)
    y <- predict(net, x)
    expect_equal(dim(y), c(7L, 4L, 3L))
    expect_equal(y, numpy_like_forward(net, x), tolerance = 1e-5)
  }
})

test_that("conditional networks match and one conditioning row serves all inputs", {
  for (layers in c("all_layers", "first_layer")) {
    net <- autoregressive_network(2, event_shape = 3, hidden_units = 5, activation = "tanh",
                                  conditional = TRUE, conditional_event_shape = 2,
                                  conditional_input_layers = layers, seed = 2)
    x <- matrix(rnorm(12), 4, 3)
    c <- matrix(rnorm(8), 4, 2)
    expect_equal(predict(net, x, conditional_input = c), numpy_like_forward(net, x, c),
                 tolerance = 1e-5)
    one <- predict(net, x, conditional_input = c[1, ])
    expect_identical(one[2, , , drop = FALSE],
                     predict(net, x[2, , drop = FALSE], conditional_input = c[1, , drop = FALSE]))
  }
})

test_that("TFP's defaults, 1-based orders, degrees and masks", {
  net <- autoregressive_network(1, event_shape = 3, hidden_units = 4)
  expect_identical(made_degrees(net), list(1:3, c(1L, 1L, 2L, 2L)))
  m <- made_masks(net)
  expect_identical(m[[1]] * 1L, matrix(c(1L, 0L, 0L, 1L, 0L, 0L, 1L, 1L, 0L, 1L, 1L, 0L), 3, 4))
  net2 <- autoregressive_network(1, event_shape = 3, input_order = c(2, 3, 1))
  expect_identical(made_degrees(net2)[[1]], c(2L, 3L, 1L))
  expect_identical(made_masks(net2)[[1]] * 1L, rbind(c(0L, 1L, 0L), c(0L, 0L, 0L), c(1L, 1L, 0L)))
  expect_identical(made_degrees(autoregressive_network(1, event_shape = 3,
                                                       input_order = "right-to-left"))[[1]], 3:1)
  expect_identical(names(get_weights(net)),
                   c("layers.0.kernel", "layers.0.bias", "layers.1.kernel", "layers.1.bias"))
})

test_that("the network is built on the first predict, like TFP", {
  net <- autoregressive_network(2, hidden_units = 3)
  expect_identical(get_weights(net), list())
  expect_output(print(net), "not built")
  expect_equal(dim(predict(net, matrix(1, 2, 4))), c(2L, 4L, 2L))
  expect_error(predict(net, matrix(1, 2, 5)), "4", class = "made_error")
})

test_that("weights round trip; masked entries are set to zero; all or nothing", {
  net <- autoregressive_network(2, event_shape = 3, hidden_units = 4, conditional = TRUE,
                                conditional_event_shape = 2, seed = 1)
  w <- get_weights(net)
  expect_identical(lapply(w, function(t) if (is.null(dim(t))) length(t) else dim(t)),
                   list(layers.0.kernel = c(3L, 4L), layers.0.bias = 4L,
                        layers.0.conditional_kernel = c(2L, 4L), layers.1.kernel = c(4L, 6L),
                        layers.1.bias = 6L, layers.1.conditional_kernel = c(2L, 6L)))
  set_weights(net, lapply(w, function(t) t * 0 + 0.5))
  got <- get_weights(net)
  m <- made_masks(net)
  expect_true(all(got[[1]][!m[[1]]] == 0) && all(got[[1]][m[[1]]] == 0.5))
  expect_true(all(got[[3]] == 0.5))
  bad <- got
  bad[[5]][2] <- NaN
  expect_error(set_weights(net, bad), "NaN", class = "made_error")
  bad[[5]] <- 1:5 + 0
  expect_error(set_weights(net, bad), "shape", class = "made_error")
  expect_error(set_weights(net, got[1:2]), "2 arrays", class = "made_error")
  expect_identical(get_weights(net), got)
})

test_that("save_made / load_made round trip", {
  net <- autoregressive_network(3, event_shape = 4, hidden_units = 5, input_order = c(4, 2, 1, 3),
                                activation = "gelu", conditional = TRUE, conditional_event_shape = 2,
                                conditional_input_layers = "first_layer", seed = 9)
  f <- tempfile(fileext = ".safetensors")
  save_made(net, f)
  back <- load_made(f)
  expect_s3_class(back, "made_network")
  expect_identical(get_weights(back), get_weights(net))
  x <- matrix(rnorm(24), 6, 4)
  c <- matrix(rnorm(12), 6, 2)
  expect_identical(predict(back, x, c), predict(net, x, c))
  expect_output(print(summary(back)), "first_layer")
  made_free(back)
  expect_error(predict(back, x, c), "freed", class = "made_error")
})

test_that("threads give the same bits", {
  net <- autoregressive_network(2, event_shape = 30, hidden_units = c(64, 64),
                                activation = "relu", seed = 4)
  x <- matrix(rnorm(30000), 1000, 30)
  y1 <- predict(net, x)
  made_threads(net, 2)
  expect_identical(made_threads(net), 2L)
  expect_identical(predict(net, x), y1)
})
