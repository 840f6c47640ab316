# The made program built from the same sources (MADE_BIN), for parity tests.
made_bin <- function() {
  bin <- Sys.getenv("MADE_BIN")
  if (!nzchar(bin) || !file.exists(bin)) skip("the made program is not available (set MADE_BIN)")
  bin
}

run_made <- function(...) {
  args <- as.character(c(...))
  out <- suppressWarnings(system2(made_bin(), shQuote(args), stdout = TRUE, stderr = TRUE))
  status <- attr(out, "status")
  if (!is.null(status) && status != 0)
    stop("made ", paste(args, collapse = " "), " failed: ", paste(out, collapse = "\n"))
  out
}

# Doubles rounded to float32 exactly as C's (float) cast.
as_float <- function(x) readBin(writeBin(as.double(x), raw(), size = 4), "double",
                                n = length(x), size = 4)

binary_data <- function(n, e, seed = 0) {
  set.seed(seed)
  z <- runif(n)
  matrix(as.numeric(matrix(runif(n * e), n, e) < 0.2 + 0.6 * z), n, e)
}

write_csv <- function(x, path) {
  write.table(format(x, digits = 17), path, sep = ",", row.names = FALSE, col.names = FALSE,
              quote = FALSE)
  path
}

# The "record" of `made info --json path`, each field as the program prints it.
info_record <- function(path) {
  json <- paste(run_made("info", path, "--json"), collapse = "")
  rec <- sub('.*"record":\\{([^}]*)\\}.*', "\\1", json)
  fields <- strsplit(strsplit(rec, ",")[[1]], ":")
  setNames(gsub('"', "", vapply(fields, `[`, "", 2)), gsub('"', "", vapply(fields, `[`, "", 1)))
}

# made_record(object) against that: names, and values printed as the program prints them.
expect_record_is_info <- function(r, path) {
  want <- info_record(path)
  expect_identical(names(r), names(want))
  num <- function(v) if (is.na(v)) "null" else sprintf("%.9g", v)
  expect_identical(c(num(r$binarize), as.character(c(r$epochs_run, r$best_epoch)), r$stop,
                     num(r$train_nll), num(r$val_nll)), unname(want))
}
