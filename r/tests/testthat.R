library(testthat)
library(made)

test_check("made")
