"""_density.py - density models: made.fit (the options of `made train`),
DensityModel.log_prob / nll / sample, and reading data files."""
import collections
import ctypes as C
import math
import signal
import sys
import threading

import numpy as np

from . import _args, _flow, _lib
from ._lib import lib
from ._network import AutoregressiveNetwork

Progress = collections.namedtuple("Progress", [
    "epoch", "epochs", "batch", "batches", "step", "train_nll", "val_nll", "best_val_nll",
    "improved", "lr", "examples_per_sec", "seconds", "epoch_done"])
Progress.__doc__ = ("What a fit() progress callback receives: after every minibatch "
                    "(epoch_done False) and at the end of every epoch (epoch_done True). "
                    "val_nll and best_val_nll are None without validation data.")


class DensityModel(AutoregressiveNetwork):
    """A trained MADE with an output distribution (made.fit, made.load): the
    network plus log_prob, nll and sample."""

    @property
    def dist(self):
        return _args.dist_text(self._cfg.dist)

    def _masks_arg(self, masks):
        """None: all mask sets (as the program); k: the first k; 0: the current one."""
        if masks is None:
            return self._cfg.num_masks
        return _args.integer("masks", masks, 0, self._cfg.num_masks)

    def _rows(self, x, conditional):
        """x[..., E] and conditional[..., C] broadcast to rows [n, E], [n, C]."""
        cfg = self._cfg
        xa = _args.floats("x", x, width=cfg.event_size)
        batch = xa.shape[:-1]
        ca = None
        if cfg.conditional_size:
            if conditional is None:
                raise ValueError("conditional must be passed: the model is conditional")
            ca = _args.floats("conditional", conditional, width=cfg.conditional_size)
            try:
                batch = np.broadcast_shapes(batch, ca.shape[:-1])
            except ValueError:
                raise ValueError("x batch shape %s and conditional batch shape %s do not "
                                 "broadcast" % (xa.shape[:-1], ca.shape[:-1]))
            ca = np.ascontiguousarray(np.broadcast_to(ca, batch + (cfg.conditional_size,)))
            xa = np.ascontiguousarray(np.broadcast_to(xa, batch + (cfg.event_size,)))
        elif conditional is not None:
            raise ValueError("conditional given, but the model is not conditional")
        return xa, ca, tuple(batch), int(np.prod(batch, dtype=np.int64))

    def log_prob(self, x, conditional=None, masks=None):
        """log p(x) in nats for x[..., E] (float64, shape [...]). With several
        mask sets: the mixture over the first `masks` (default all), as
        `made logprob`; masks=0 scores with the current mask set (mask_index)."""
        with self._lock:
            h = self._handle()
            k = self._masks_arg(masks)
            xa, ca, batch, n = self._rows(x, conditional)
            lp = np.empty(batch, dtype=np.float64)
            if n and k == 0:
                _lib.check(lib.made_model_log_prob(
                    h, lp.ctypes.data_as(_lib._f64p), _args.fptr(xa), _args.fptr(ca), n))
            elif n:
                _lib.check(lib.made_model_log_prob_ensemble(
                    h, lp.ctypes.data_as(_lib._f64p), _args.fptr(xa), _args.fptr(ca), n, k))
            return lp

    def nll(self, x, conditional=None, masks=None):
        """Mean negative log-likelihood in nats per example, as `made eval`
        (masks as in log_prob)."""
        with self._lock:
            h = self._handle()
            k = self._masks_arg(masks)
            xa, ca, _, n = self._rows(x, conditional)
            if n == 0:
                raise ValueError("x: no examples")
            out = C.c_double()
            _lib.check(lib.made_model_nll(h, _args.fptr(xa), _args.fptr(ca), n, k,
                                          C.byref(out)))
            return out.value

    def sample(self, n, seed=0, conditional=None, mask=None, naive=False):
        """n samples [n, E] (float32), as `made sample`. conditional: one row
        [C] for all samples, or [n, C]. mask: the mask set to sample from
        (default: the current one)."""
        n = _args.integer("n", n, 0, 1 << 40)
        seed = _args.seed(seed, bits=64)
        with self._lock:
            h = self._handle()
            cfg = self._cfg
            if mask is not None:
                _lib.check(lib.made_model_set_mask(h, _args.integer("mask", mask, 0, 4095)))
            ca = None
            if cfg.conditional_size:
                if conditional is None:
                    raise ValueError("conditional must be passed: the model is conditional")
                ca = _args.floats("conditional", conditional, width=cfg.conditional_size)
                if ca.ndim == 1 or ca.shape[0] == 1 and n != 1:
                    ca = np.ascontiguousarray(np.broadcast_to(ca.reshape(-1), (n, cfg.conditional_size)))
                elif ca.ndim != 2 or ca.shape[0] != n:
                    raise ValueError("conditional: expected one row [%d] or [n, %d] with n = %d, "
                                     "got shape %s" % (cfg.conditional_size, cfg.conditional_size,
                                                       n, ca.shape))
            elif conditional is not None:
                raise ValueError("conditional given, but the model is not conditional")
            x = np.empty((n, cfg.event_size), dtype=np.float32)
            if n:
                fn = lib.made_model_sample_naive if _args.flag("naive", naive) else lib.made_model_sample
                _lib.check(fn(h, _args.fptr(x), _args.fptr(ca), n, seed))
            return x

    def check_data(self, x):
        """Raises ValueError (row and column) unless x[n, E] is valid data."""
        with self._lock:
            h = self._handle()
            xa = _args.floats("x", x, width=self._cfg.event_size)
            n = int(np.prod(xa.shape[:-1], dtype=np.int64))
            _lib.check(lib.made_model_check_data(h, _args.fptr(xa), n))


# ---- data ----------------------------------------------------------------------
def read_data(path):
    """Reads a data file as made does (.npy, CSV, IDX, gzip or not) -> float32 array."""
    p = _args.path("path", path)
    a = _lib.Array()
    _lib.check(lib.made_data_read(C.byref(a), p))
    try:
        shape = tuple(a.shape[i] for i in range(a.ndim))
        n = int(np.prod(shape, dtype=np.int64))
        out = np.empty(shape, dtype=np.float32)
        if n:
            C.memmove(out.ctypes.data, a.data, n * 4)
        return out
    finally:
        lib.made_array_free(C.byref(a))


def _rows(name, data, width=None, binarize=None):
    """Data as rows [n, cols] like the command line: files are read with made's
    readers (a 1-D file is one row); arrays need at least 2 dimensions; further
    axes are flattened; NaN/Inf are rejected with their row and column."""
    is_file = isinstance(data, (str, bytes)) or hasattr(data, "__fspath__")
    a = read_data(data) if is_file else _args.floats(name, data, min_ndim=2)
    if a.ndim == 0:
        raise ValueError("%s: a scalar, expected rows of data" % name)
    rows = a.shape[0] if a.ndim > 1 else (a.shape[0] if width == 1 else 1)
    cols = int(np.prod(a.shape[1:], dtype=np.int64)) if a.ndim > 1 else a.size // max(rows, 1)
    a = a.reshape(rows, cols)
    if width is not None and cols != width:
        raise ValueError("%s: rows have %d values, but the model expects %d" % (name, cols, width))
    if rows == 0:
        raise ValueError("%s: no rows of data" % name)
    bad = ~np.isfinite(a)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError("%s: row %d, column %d is %g (not finite)" % (name, r + 1, c + 1, a[r, c]))
    if binarize is not None:
        # Compared in double precision, as the command line does.
        a = (a.astype(np.float64) > binarize).astype(np.float32)
    return np.ascontiguousarray(a, dtype=np.float32)


def _mix(states):
    """splitmix64 outputs for the given states (numpy uint64, wrapping)."""
    z = states.copy()
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
    return z ^ (z >> np.uint64(31))


def _split(rows, val_fraction, seed):
    """The command line's seeded validation split: is_val[rows] (bool)."""
    nval = int(math.floor(val_fraction * rows + 0.5))
    if nval == 0 or nval >= rows:
        raise ValueError("val_fraction %g of %d rows leaves no validation or no training rows"
                         % (val_fraction, rows))
    perm = np.arange(rows, dtype=np.int64)
    if rows > 1:
        base = np.uint64((seed ^ 0x76616c6964) & 0xFFFFFFFFFFFFFFFF)
        k = np.arange(1, rows, dtype=np.uint64)
        with np.errstate(over="ignore"):
            states = base + k * np.uint64(0x9e3779b97f4a7c15)
        i = np.arange(rows, 1, -1, dtype=np.uint64)
        js = (_mix(states) % i).astype(np.int64)
        for step, j in enumerate(js.tolist()):
            top = rows - 1 - step
            perm[top], perm[j] = perm[j], perm[top]
    is_val = np.zeros(rows, dtype=bool)
    is_val[perm[:nval]] = True
    return is_val


# ---- training --------------------------------------------------------------------
_SCHEDULES = {"constant": 0, "cosine": 1}


def _train_config(epochs, batch_size, lr, optimizer, momentum, weight_decay, clip_norm,
                  lr_schedule, patience, resample_every, seed):
    tc = _lib.TrainConfig()
    lib.made_train_config_default(C.byref(tc))
    tc.epochs = _args.integer("epochs", epochs, 1, 1000000)
    tc.batch_size = _args.integer("batch_size", batch_size, 1, 1000000)
    tc.lr = _args.real("lr", lr, 1e-12, 10)
    tc.optimizer = _args.choice("optimizer", optimizer, {"adam": 0, "sgd": 1})
    tc.momentum = _args.real("momentum", momentum, 0, 0.999999)
    tc.weight_decay = _args.real("weight_decay", weight_decay, 0, 0.999999)
    tc.clip_norm = _args.real("clip_norm", clip_norm, 0, 1e30)
    if not isinstance(lr_schedule, str):
        raise _args.ArgTypeError("lr_schedule: expected 'constant', 'cosine' or 'step:EPOCHS:RATE'")
    if lr_schedule in _SCHEDULES:
        tc.schedule = _SCHEDULES[lr_schedule]
    else:
        parts = lr_schedule.split(":")
        try:
            ok = len(parts) == 3 and parts[0] == "step"
            de, rate = (int(parts[1]), float(parts[2])) if ok else (0, 0.0)
        except ValueError:
            ok = False
        if not ok or de < 1 or not (0 < rate <= 1):
            raise ValueError("lr_schedule: %r (expected constant, cosine, or step:EPOCHS:RATE "
                             "with RATE in (0, 1], e.g. step:10:0.5)" % lr_schedule)
        tc.schedule, tc.decay_epochs, tc.decay_rate = 2, de, rate
    tc.patience = _args.integer("patience", patience, 0, 1000000)
    tc.resample_every = _args.integer("resample_every", resample_every, 1, 1000000000)
    tc.seed = seed
    _lib.check(lib.made_train_config_validate(C.byref(tc)))
    return tc


class _Callback:
    """Calls the user's progress function; an exception there (or Ctrl-C)
    stops training after the current minibatch and is re-raised by fit()."""

    def __init__(self, user, trainer, checkpoint, verbose):
        self.user, self.trainer, self.checkpoint, self.verbose = user, trainer, checkpoint, verbose
        self.exc = None
        self.interrupted = False  # set by the SIGINT handler fit() installs
        self.save_error = None
        self.fn = _lib.PROGRESS_FN(self)

    def __call__(self, _user, pp):
        try:
            p = pp.contents
            nan = lambda v: None if math.isnan(v) else v
            info = Progress(p.epoch, p.epochs, p.batch, p.batches, p.step, p.train_nll,
                            nan(p.val_nll), nan(p.best_val_nll), bool(p.improved), p.lr,
                            p.examples_per_sec, p.seconds, bool(p.epoch_done))
            if info.epoch_done and self.verbose:
                val = "" if info.val_nll is None else "  val %.4f%s" % (
                    info.val_nll, " *" if info.improved else "")
                print("epoch %d/%d  train %.4f%s  %.0f ex/s  %.1f s" % (
                    info.epoch, info.epochs, info.train_nll, val, info.examples_per_sec,
                    info.seconds), file=sys.stderr, flush=True)
            if info.epoch_done and self.checkpoint is not None:
                st = lib.made_trainer_save(self.trainer, self.checkpoint)
                if st != _lib.OK:
                    self.save_error = _lib.error(st, "checkpoint")
                    return 1
            if self.user is not None:
                self.user(info)
            if self.interrupted:
                raise KeyboardInterrupt
            return 0
        except BaseException as e:  # noqa: B902 - Ctrl-C included, re-raised by fit()
            self.exc = e
            return 1


def fit(data, dist=None, *, flow=None, conditional=None, params=None, hidden_units=(500,),
        input_order='left-to-right', hidden_degrees='equal', activation='relu', use_bias=True,
        kernel_initializer='glorot_uniform', bias_initializer='zeros',
        conditional_input_layers='all_layers', validate_args=False, masks=1,
        epochs=10, batch_size=100, lr=1e-3, optimizer='adam', momentum=0.9, weight_decay=0.0,
        clip_norm=0.0, lr_schedule='constant', val_fraction=0.0, val=None, val_conditional=None,
        patience=0, resample_every=1, binarize=None, seed=0, threads=1, checkpoint=None,
        resume=None, progress=None, verbose=False, **flow_options):
    """Trains a MADE density model (dist, default 'bernoulli') or a flow
    (flow='maf:K') on data [N, ...] (an array, or a file path read as `made
    train` reads it) and returns a DensityModel or a Flow.

    Options and defaults are those of `made train` (one hidden layer of 500
    relu units, Adam, lr 1e-3, batch 100, 10 epochs), with TFP's names for the
    network options; the same options and data give the same bits as the
    command line. With flow=, the network options describe every layer's
    network, and the flow options of `made train --flow` are keywords:
    permutation ('reverse', 'random', 'identity' or a 0-based list),
    batch_norm, scale ('exp', 'softplus', 'softclip'), standardize,
    logit=L, dequantize (8-bit pixel data, needs logit) and share_weights
    (one network for every layer). An IAF ('iaf:K') trains too, at about E
    network passes per step.
    progress(p) is called after every minibatch and epoch with a
    Progress; an exception raised there, or Ctrl-C, stops training after the
    current minibatch (writing `checkpoint` if given) and is re-raised.
    resume=CKPT continues an interrupted run from its checkpoint (the network,
    flow and training options then come from the checkpoint)."""
    _flow.check_option_names(flow_options, "fit")
    if progress is not None and not callable(progress):
        raise _args.ArgTypeError("progress: expected a callable, got %r" % (progress,))
    if binarize is not None:
        binarize = _args.real("binarize", binarize, -1e30, 1e30)
    threads = _args.integer("threads", threads, 1, 1024)
    vf = _args.real("val_fraction", val_fraction, 0, 0.99)
    if vf and val is not None:
        raise ValueError("give val_fraction or val, not both")
    if patience and not vf and val is None:
        raise ValueError("patience needs validation data (val_fraction or val)")
    ckpt = _args.path("checkpoint", checkpoint) if checkpoint is not None else None
    rpath = _args.path("resume", resume) if resume is not None else None
    is_flow = flow is not None or (rpath is not None and lib.made_file_is_flow(rpath) == 1)
    if is_flow and flow is not None and (dist is not None or params is not None or masks != 1):
        raise ValueError("flow sets the layers' outputs (shift and log-scale) and the base "
                         "(standard normal): dist, params and masks do not apply")
    if not is_flow and flow_options:
        raise ValueError("%s applies to flows (flow='maf:K')" % sorted(flow_options)[0])
    x = _rows("data", data, binarize=binarize)
    n, cols = x.shape
    c = None
    if conditional is not None:
        c = _rows("conditional", conditional)
        if c.shape[0] != n:
            raise ValueError("conditional has %d rows but data has %d" % (c.shape[0], n))
    ccols = c.shape[1] if c is not None else 0
    ops = _FLOW if is_flow else _MADE

    model_h, trainer = C.c_void_p(), C.c_void_p()
    try:
        if rpath is not None:
            _check_resume_args(locals(), flow_options)
            _lib.check(ops.resume(C.byref(trainer), C.byref(model_h), rpath))
            seed = int(lib.made_trainer_config(trainer).contents.seed)
        else:
            seed = _args.seed(seed)
            cfg, order = _model_config(None if is_flow else (dist or 'bernoulli'),
                                       2 if is_flow else params, hidden_units, input_order,
                                       hidden_degrees, activation, use_bias, kernel_initializer,
                                       bias_initializer, conditional_input_layers,
                                       validate_args, masks, seed, cols, ccols)
            tc = _train_config(epochs, batch_size, lr, optimizer, momentum, weight_decay,
                               clip_norm, lr_schedule, patience, resample_every, seed)
            if is_flow:
                kind, k = _flow.parse_flow(flow)
                fc, keep = _flow.flow_config(kind, k, cfg, flow_options)
                _lib.check(lib.made_flow_create(C.byref(model_h), C.byref(fc)))
            else:
                _lib.check(lib.made_model_create(C.byref(model_h), C.byref(cfg)))
            _lib.check(ops.trainer(C.byref(trainer), model_h, C.byref(tc)))
        e, cs = ops.sizes(model_h)
        if e != cols or cs != ccols:
            raise ValueError("data has %d values per row and %d conditional values, but the "
                             "model expects %d and %d" % (cols, ccols, e, cs))
        ops.set_threads(model_h, threads)
        levels = ops.levels(model_h)
        if levels:  # the program's order: noise on all of DATA (stream 0), then the split
            x = _flow.dequantize("data", x, seed, levels)
        _lib.check(ops.check_data(model_h, _args.fptr(x), n), "data")
        xt, ct, xv, cv = _validation(ops, model_h, x, c, vf, val, val_conditional, binarize,
                                     seed, cols, ccols, levels)
        if is_flow and rpath is None and ops.standardize(model_h):
            _lib.check(lib.made_flow_standardize_from_data(model_h, _args.fptr(xt), xt.shape[0]),
                       "data")
        _train(trainer, xt, ct, xv, cv, progress, ckpt, verbose)
        lib.made_trainer_free(trainer)
        trainer = None
        if is_flow:
            model = _flow.Flow._from_handle(model_h)
        else:
            # Mask set 0 selected, as in a model loaded from the file the program writes.
            _lib.check(lib.made_model_set_mask(model_h, 0))
            model = DensityModel._from_handle(model_h)
        model_h = None
        model._threads = threads
        return model
    finally:
        if trainer:
            lib.made_trainer_free(trainer)
        if model_h:
            ops.free(model_h)


class _Ops:
    """What differs between training a MADE and a flow."""

    def __init__(self, **fns):
        self.__dict__.update(fns)


def _made_sizes(h):
    cfg = lib.made_model_config(h).contents
    return cfg.event_size, cfg.conditional_size


def _flow_sizes(h):
    cfg = lib.made_flow_get_config(h).contents.layer
    return cfg.event_size, cfg.conditional_size


_MADE = _Ops(resume=lambda t, m, p: lib.made_trainer_resume(t, m, p),
             trainer=lambda t, m, tc: lib.made_trainer_create(t, m, tc),
             sizes=_made_sizes, set_threads=lambda h, n: lib.made_model_set_threads(h, n),
             levels=lambda h: 0, standardize=lambda h: False,
             check_data=lambda h, x, n: lib.made_model_check_data(h, x, n),
             free=lambda h: lib.made_model_free(h))
_FLOW = _Ops(resume=lambda t, m, p: lib.made_flow_trainer_resume(t, m, p),
             trainer=lambda t, m, tc: lib.made_flow_trainer_create(t, m, tc),
             sizes=_flow_sizes, set_threads=lambda h, n: lib.made_flow_set_threads(h, n),
             levels=lambda h: lib.made_flow_get_config(h).contents.dequantize_levels,
             standardize=lambda h: (lib.made_flow_get_config(h).contents.preprocess ==
                                    _flow.PRE_STANDARDIZE),
             check_data=lambda h, x, n: lib.made_flow_check_data(h, x, n),
             free=lambda h: lib.made_flow_free(h))


def _train(trainer, xt, ct, xv, cv, progress, ckpt, verbose):
    """The training loop; the checkpoint is written at the end, also when an
    exception from the callback (or Ctrl-C) stopped it, which is then re-raised."""
    cb = _Callback(progress, trainer, ckpt, verbose)
    st = _run(cb, lambda: lib.made_trainer_fit(
        trainer, _args.fptr(xt), _args.fptr(ct), xt.shape[0], _args.fptr(xv), _args.fptr(cv),
        xv.shape[0] if xv is not None else 0, cb.fn, None))
    if st == _lib.E_INTERRUPTED and cb.save_error is not None:
        raise cb.save_error
    if st != _lib.E_INTERRUPTED:
        _lib.check(st)
    if ckpt is not None:
        _lib.check(lib.made_trainer_save(trainer, ckpt), "checkpoint")
    if st == _lib.E_INTERRUPTED:
        raise cb.exc if cb.exc is not None else KeyboardInterrupt()


def _run(cb, call):
    """Runs the training call with Ctrl-C turned into a flag the callback reads
    (so it stops after the current minibatch), when called from the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return call()

    def on_sigint(signum, frame):
        cb.interrupted = True
    old = signal.signal(signal.SIGINT, on_sigint)
    try:
        return call()
    finally:
        signal.signal(signal.SIGINT, old)


_RESUME_FIXED = {
    "dist": None, "flow": None, "params": None, "hidden_units": (500,), "input_order": 'left-to-right',
    "hidden_degrees": 'equal', "activation": 'relu', "use_bias": True,
    "kernel_initializer": 'glorot_uniform', "bias_initializer": 'zeros',
    "conditional_input_layers": 'all_layers', "validate_args": False, "masks": 1,
    "epochs": 10, "batch_size": 100, "lr": 1e-3, "optimizer": 'adam', "momentum": 0.9,
    "weight_decay": 0.0, "clip_norm": 0.0, "lr_schedule": 'constant', "patience": 0,
    "resample_every": 1, "seed": 0,
}


def _check_resume_args(given, flow_options):
    if flow_options:
        raise ValueError("%s cannot be changed when resuming (the checkpoint holds the run's "
                         "settings)" % sorted(flow_options)[0])
    for name, default in _RESUME_FIXED.items():
        v = given[name]
        same = v == default if not isinstance(v, np.ndarray) else False
        if name == "hidden_units" and v is not None and not isinstance(v, str):
            try:
                same = list(v) == [500]
            except TypeError:
                same = False
        if not same:
            raise ValueError("%s cannot be changed when resuming (the checkpoint holds the "
                             "run's settings)" % name)


def _model_config(dist, params, hidden_units, input_order, hidden_degrees, activation,
                  use_bias, kernel_initializer, bias_initializer, conditional_input_layers,
                  validate_args, masks, seed, cols, ccols):
    cfg = _lib.Config()
    lib.made_config_default(C.byref(cfg))
    cfg.event_size = cols
    cfg.conditional_size = ccols
    if dist is not None:  # None: a plain network (a flow's layer)
        cfg.dist = _args.dist(dist)
    cfg.params = (lib.made_dist_params(cfg.dist) if params is None
                  else _args.integer("params", params, 1, 1000000))
    units = _args.hidden_units(hidden_units)
    cfg.n_hidden = len(units)
    for i, u in enumerate(units):
        cfg.hidden_units[i] = u
    cfg.input_order, explicit = _args.input_order(input_order)
    order = None
    if explicit is not None:
        if len(explicit) != cols:
            raise ValueError("input_order: %d entries, but the data has %d values per row"
                             % (len(explicit), cols))
        order = (C.c_int * cols)(*explicit)
        cfg.explicit_order = C.cast(order, C.POINTER(C.c_int))
    cfg.hidden_degrees = _args.choice("hidden_degrees", hidden_degrees, _args.DEGREES)
    cfg.activation = _args.activation(activation)
    cfg.use_bias = _args.flag("use_bias", use_bias)
    cfg.kernel_initializer = _args.initializer("kernel_initializer", kernel_initializer)
    cfg.bias_initializer = _args.initializer("bias_initializer", bias_initializer)
    cfg.conditional_layers = _args.choice("conditional_input_layers", conditional_input_layers,
                                          {"all_layers": 0, "first_layer": 1})
    cfg.validate_args = _args.flag("validate_args", validate_args)
    cfg.seed = seed
    cfg.num_masks = _args.integer("masks", masks, 1, 4096)
    _lib.check(lib.made_config_validate(C.byref(cfg)))
    return cfg, order


def _validation(ops, model_h, x, c, vf, val, val_conditional, binarize, seed, cols, ccols,
                levels=0):
    """(train x, train c, validation x, validation c) as the command line splits
    them; a dequantised flow's --val rows get noise from stream seed + 1."""
    if val_conditional is not None and (val is None or not ccols):
        raise ValueError("val_conditional needs val and a conditional model")
    if val is not None:
        xv = _rows("val", val, width=cols, binarize=binarize)
        if levels:
            xv = _flow.dequantize("val", xv, seed + 1, levels)
        _lib.check(ops.check_data(model_h, _args.fptr(xv), xv.shape[0]), "val")
        cv = None
        if ccols and val_conditional is None:
            raise ValueError("val with a conditional model needs val_conditional")
        if val_conditional is not None:
            cv = _rows("val_conditional", val_conditional, width=ccols)
            if cv.shape[0] != xv.shape[0]:
                raise ValueError("val_conditional has %d rows but val has %d"
                                 % (cv.shape[0], xv.shape[0]))
        return x, c, xv, cv
    if vf > 0:
        is_val = _split(x.shape[0], vf, seed)
        cs = (np.ascontiguousarray(c[~is_val]), np.ascontiguousarray(c[is_val])) if ccols else (None, None)
        return (np.ascontiguousarray(x[~is_val]), cs[0], np.ascontiguousarray(x[is_val]), cs[1])
    return x, c, None, None
