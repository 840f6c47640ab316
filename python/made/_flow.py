"""_flow.py - made.Flow: MAF and IAF stacks of made networks (TFP's
TransformedDistribution over a Chain of MaskedAutoregressiveFlow bijectors and
Permutes), their options, and training them with made.fit(..., flow='maf:K')."""
import ctypes as C
import re

import numpy as np

from . import _args, _lib
from ._lib import lib
from ._network import AutoregressiveNetwork

PERM_EXPLICIT = 2
PRE_NONE, PRE_STANDARDIZE, PRE_LOGIT = 0, 1, 2
DEQUANTIZE_LEVELS = 256  # `made train --dequantize`: 8-bit pixel values


# ---- the flow options: one line each in FLOW_OPTIONS ----------------------------
def _named(name, v, parse):
    """A made name ('exp', 'reverse', ...) parsed by the library's parser."""
    out = C.c_int()
    if lib_ok(parse(_args.text(name, v), C.byref(out))):
        return out.value
    msg = _lib.last_error()
    raise ValueError(msg if msg.startswith(name) else "%s: %s" % (name, msg))


def lib_ok(status):
    return status == _lib.OK


def _set_permutation(fc, v, keep):
    """'reverse', 'random', 'identity', or a 0-based permutation (tfb.Permute's)."""
    if isinstance(v, str):
        kind = _named("permutation", v, lib.made_flow_permutation_parse)
        if kind == PERM_EXPLICIT:
            raise ValueError("permutation: give the permutation itself, a 0-based list such "
                             "as [2, 0, 1]")
        fc.permutation = kind
        return
    try:
        perm = list(v)
    except TypeError:
        raise _args.ArgTypeError("permutation: expected 'reverse', 'random', 'identity' or a "
                                 "0-based permutation such as [2, 0, 1], got %r" % (v,))
    e = fc.layer.event_size
    if len(perm) != e:
        raise ValueError("permutation: %d entries, but the event size is %d" % (len(perm), e))
    for i, p in enumerate(perm):
        if not _args.is_int(p):
            raise _args.ArgTypeError("permutation[%d]: expected an integer, got %r" % (i, p))
        if not 0 <= int(p) < e:
            raise ValueError("permutation: entry %d is %d (expected a 0-based permutation of "
                             "0..%d)" % (i, int(p), e - 1))
    keep["permutation"] = (C.c_int * e)(*[int(p) for p in perm])
    fc.permutation = PERM_EXPLICIT
    fc.explicit_permutation = C.cast(keep["permutation"], C.POINTER(C.c_int))


def _flag(field):
    """A True/False option stored in the made_flow_config field of its name."""
    def set_flag(fc, v, keep):
        setattr(fc, field, _args.flag(field, v))
    return set_flag


def _set_scale(fc, v, keep):
    fc.scale = _named("scale", v, lib.made_flow_scale_parse)


def _set_standardize(fc, v, keep):
    if _args.flag("standardize", v):
        fc.preprocess = PRE_STANDARDIZE


def _set_logit(fc, v, keep):
    if v is None:
        return
    if fc.preprocess != PRE_NONE:
        raise ValueError("give standardize or logit, not both")
    fc.logit_lambda = _args.real("logit", v, 0, 0.499999)
    fc.preprocess = PRE_LOGIT


def _set_dequantize(fc, v, keep):
    if not _args.flag("dequantize", v):
        return
    if fc.preprocess != PRE_LOGIT:
        raise ValueError("dequantize needs logit=L (e.g. logit=1e-6)")
    fc.dequantize_levels = DEQUANTIZE_LEVELS


# keyword (the `made train` option with _ for -), default, setter on
# made_flow_config. Applied in this order (logit before dequantize).
FLOW_OPTIONS = (
    ("permutation", "reverse", _set_permutation),
    ("batch_norm", False, _flag("batch_norm")),
    ("scale", "exp", _set_scale),
    ("standardize", False, _set_standardize),
    ("logit", None, _set_logit),
    ("dequantize", False, _set_dequantize),
    ("share_weights", False, _flag("share_weights")),
)
FLOW_DEFAULTS = {name: default for name, default, _ in FLOW_OPTIONS}


def check_option_names(options, where):
    for k in options:
        if k not in FLOW_DEFAULTS:
            raise TypeError("%s() got an unexpected keyword argument %r" % (where, k))


def parse_flow(v):
    """'maf:K' / 'iaf:K' (as `made train --flow`) -> (kind, K)."""
    m = re.match(r"^([a-z]+):([0-9]+)$", v) if isinstance(v, str) else None
    if m is None or not 1 <= int(m.group(2)) <= 1024:
        raise ValueError("flow: %r (expected 'maf:K' or 'iaf:K' with K in 1..1024, e.g. "
                         "'maf:5')" % (v,))
    return _named("flow", m.group(1), lib.made_flow_kind_parse), int(m.group(2))


def flow_config(kind, num_layers, layer_cfg, options):
    """made_flow_config from a layer network config and the flow options.
    Returns (config, keep): keep holds the arrays the config points to."""
    fc = _lib.FlowConfig()
    lib.made_flow_config_default(C.byref(fc))
    fc.kind, fc.num_layers = kind, num_layers
    fc.layer = layer_cfg
    fc.permutation_seed = layer_cfg.seed  # as the program: --seed
    keep = {}
    for name, default, setter in FLOW_OPTIONS:
        setter(fc, options.get(name, default), keep)
    _lib.check(lib.made_flow_config_validate(C.byref(fc)))
    return fc, keep


# ---- data for flows ----------------------------------------------------------
def dequantize(name, x, seed, levels=DEQUANTIZE_LEVELS):
    """Uniform dequantisation as the program does it (made_dequantize): x[n, E]
    holds integers 0..levels-1; noise U[0, 1) from a splitmix64 stream of the
    seed, row by row, is added. Returns a new float32 array."""
    x = np.array(x, dtype=np.float32, order="C")
    cols = x.shape[-1] if x.ndim else 1
    _lib.check(lib.made_dequantize(x.ctypes.data_as(_lib._f32p), x.size // max(cols, 1), cols,
                                   int(seed) & 0xFFFFFFFFFFFFFFFF, levels), name)
    return x


# ---- the flow --------------------------------------------------------------------
class _LayerView(AutoregressiveNetwork):
    """Layer k's network, owned by its flow: every AutoregressiveNetwork method
    works on it (get_weights in Keras order, set_weights, masks, calling it);
    it shares the flow's lock and lives as long as the flow."""

    @classmethod
    def _of(cls, flow, h):
        self = cls._from_handle(h)
        self._flow = flow
        self._lock = flow._lock
        return self

    def _handle(self):
        self._flow._handle()  # raises once the flow is closed
        return self._h

    def close(self):
        raise ValueError("made: a flow layer is closed with its flow (flow.close())")

    def __del__(self):
        self._h = None  # owned by the flow

    @property
    def threads(self):
        return self._flow.threads

    @threads.setter
    def threads(self, n):
        raise ValueError("made: set threads on the flow (flow.threads = n)")


class Flow(_lib.OwnedHandle):
    """A masked autoregressive flow (MAF) or inverse autoregressive flow (IAF):
    a standard normal base through K layers, each an AutoregressiveNetwork with
    params=2 (shift, log-scale), with permutations (and optional batch
    normalisation) between them -- TFP's

        tfd.TransformedDistribution(tfd.MultivariateNormalDiag(zeros(E)),
            tfb.Chain([L_K-1, Permute_K-2, ..., Permute_0, L_0]))

    with L_k = tfb.MaskedAutoregressiveFlow(net_k) (MAF) or its tfb.Invert
    (IAF). ``forward`` is the sampling direction, ``inverse`` the density
    direction. The network arguments are AutoregressiveNetwork's (TFP's
    defaults); layer k's network is seeded with seed + k. The flow options
    (permutation, batch_norm, scale, standardize, logit, dequantize,
    share_weights) are those of `made train --flow`. Train one with made.fit(data, flow='maf:5', ...).
    """

    def __init__(self, event_shape, num_layers=1, kind='maf', hidden_units=None,
                 input_order='left-to-right', hidden_degrees='equal', activation=None,
                 use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 validate_args=False, conditional_event_shape=None,
                 conditional_input_layers='all_layers', seed=None, **flow_options):
        self._own(None)
        self._threads = 1
        check_option_names(flow_options, "Flow")
        from ._density import _model_config
        e = _args.rank1_size("event_shape", event_shape)
        if e is None:
            raise ValueError("event_shape: a flow needs its event size, e.g. event_shape=[2]")
        csize = _args.rank1_size("conditional_event_shape", conditional_event_shape) or 0
        k = _named("kind", kind, lib.made_flow_kind_parse)
        layers = _args.integer("num_layers", num_layers, 1, 1024)
        cfg, order = _model_config(None, 2, hidden_units, input_order, hidden_degrees,
                                   activation, use_bias, kernel_initializer, bias_initializer,
                                   conditional_input_layers, validate_args, 1, _args.seed(seed),
                                   e, csize)
        fc, keep = flow_config(k, layers, cfg, flow_options)
        h = C.c_void_p()
        _lib.check(lib.made_flow_create(C.byref(h), C.byref(fc)))
        del order, keep
        self._h = h

    @classmethod
    def _from_handle(cls, h):
        self = cls.__new__(cls)
        self._own(h)
        self._threads = 1
        return self

    # ---- life cycle (close, with: _lib.OwnedHandle) ----------------------------
    def _free_handle(self, h):
        lib.made_flow_free(h)  # and its layers' networks

    def _handle(self):
        if self._closed or self._h is None:
            raise ValueError("made: the flow was closed")
        return self._h

    def _fc(self):
        return lib.made_flow_get_config(self._handle()).contents

    # ---- configuration ------------------------------------------------------
    @property
    def kind(self):
        return lib.made_flow_kind_name(self._fc().kind).decode()

    @property
    def num_layers(self):
        return self._fc().num_layers

    @property
    def event_size(self):
        return self._fc().layer.event_size

    @property
    def event_shape(self):
        return [self.event_size]

    @property
    def conditional(self):
        return self._fc().layer.conditional_size > 0

    @property
    def conditional_event_shape(self):
        c = self._fc().layer.conditional_size
        return [c] if c else None

    @property
    def scale(self):
        return lib.made_flow_scale_name(self._fc().scale).decode()

    @property
    def batch_norm(self):
        return bool(self._fc().batch_norm)

    @property
    def preprocess(self):
        """'none', 'standardize' or 'logit'."""
        return ("none", "standardize", "logit")[self._fc().preprocess]

    def get_config(self):
        """The flow's options (the keywords of Flow and fit) and its layers'
        network configuration (layer k's seed is seed + k)."""
        with self._lock:
            fc = self._fc()
            kind = fc.permutation
            perm = (lib.made_flow_permutation_name(kind).decode() if kind != PERM_EXPLICIT
                    else [int(fc.explicit_permutation[i]) for i in range(fc.layer.event_size)])
            layer0 = self._layer(0)
        net = layer0.get_config()  # takes the lock itself
        net["seed"] = int(fc.layer.seed)
        del net["params"], net["event_shape"], net["conditional_event_shape"]
        with self._lock:
            return dict(
                kind=lib.made_flow_kind_name(fc.kind).decode(), num_layers=fc.num_layers,
                event_shape=[fc.layer.event_size],
                conditional_event_shape=([fc.layer.conditional_size]
                                         if fc.layer.conditional_size else None),
                permutation=perm, batch_norm=bool(fc.batch_norm),
                scale=lib.made_flow_scale_name(fc.scale).decode(),
                standardize=fc.preprocess == PRE_STANDARDIZE,
                logit=fc.logit_lambda if fc.preprocess == PRE_LOGIT else None,
                dequantize=fc.dequantize_levels > 0, share_weights=bool(fc.share_weights),
                **net)

    def __repr__(self):
        if self._closed:
            return "<made.Flow (closed)>"
        c = self.get_config()
        return ("<made.Flow %s:%d event_shape=%s hidden_units=%s permutation=%r scale=%r "
                "batch_norm=%s preprocess=%r>" % (c["kind"], c["num_layers"], c["event_shape"],
                                                  c["hidden_units"], c["permutation"],
                                                  c["scale"], c["batch_norm"], self.preprocess))

    def count_params(self):
        """Trainable parameters: TFP's count per layer plus 2E per batch norm."""
        with self._lock:
            return int(lib.made_flow_num_params(self._handle()))

    @property
    def record(self):
        """How the flow's training ended (`made info`): a dict of binarize
        (None), epochs_run, best_epoch, stop, train_nll and val_nll (None
        where made info --json shows null)."""
        with self._lock:
            return _lib.record_dict(lib.made_flow_get_record(self._handle()))

    @property
    def threads(self):
        return self._threads

    @threads.setter
    def threads(self, n):
        n = _args.integer("threads", n, 1, 1024)
        with self._lock:
            _lib.check(lib.made_flow_set_threads(self._handle(), n))
        self._threads = n

    # ---- structure ----------------------------------------------------------
    def _layer(self, k):
        h = lib.made_flow_layer(self._handle(), k)
        return _LayerView._of(self, C.c_void_p(h))

    @property
    def layers(self):
        """Each layer's network as a made.AutoregressiveNetwork (0 = applied
        first when sampling), owned by the flow: get_weights() in Keras order,
        set_weights(), masks, degrees, calling it on an input."""
        with self._lock:
            return [self._layer(k) for k in range(self._fc().num_layers)]

    @property
    def permutations(self):
        """The K-1 permutations between layers, 0-based as tfb.Permute takes
        them: permutation k is applied after layer k when sampling (y = x[..., p])."""
        with self._lock:
            h, fc = self._handle(), self._fc()
            out = []
            for k in range(fc.num_layers - 1):
                p = np.empty(fc.layer.event_size, dtype=np.int32)
                _lib.check(lib.made_flow_get_permutation(h, k, p.ctypes.data_as(_lib._i32p)))
                out.append(p.astype(np.int64))
            return out

    def get_batch_norm(self, k):
        """Layer k's batch norm as a dict of [E] float32 arrays: mean and
        variance (running averages, used in evaluation), gamma (log-scale) and
        beta; the density direction maps v = (u - mean) / sqrt(variance + eps)
        * exp(gamma) + beta."""
        with self._lock:
            h, fc = self._handle(), self._fc()
            k = _args.integer("k", k, 0, fc.num_layers - 1)
            if not fc.batch_norm:
                raise ValueError("batch norm: the flow has no batch normalisation")
            a = {n: np.empty(fc.layer.event_size, dtype=np.float32)
                 for n in ("mean", "variance", "gamma", "beta")}
            _lib.check(lib.made_flow_get_batchnorm(h, k, *(_args.fptr(a[n]) for n in
                                                           ("mean", "variance", "gamma", "beta"))))
            return a

    def set_batch_norm(self, k, mean, variance, gamma, beta):
        """Sets layer k's batch-norm parameters (each [E])."""
        with self._lock:
            h, fc = self._handle(), self._fc()
            k = _args.integer("k", k, 0, fc.num_layers - 1)
            e = fc.layer.event_size
            arrays = []
            for name, v in (("mean", mean), ("variance", variance), ("gamma", gamma),
                            ("beta", beta)):
                a = _args.floats(name, v)
                if a.shape != (e,):
                    raise ValueError("%s: expected shape (%d,), got %s" % (name, e, a.shape))
                arrays.append(a)
            _lib.check(lib.made_flow_set_batchnorm(h, k, *(_args.fptr(a) for a in arrays)),
                       "batch norm of layer %d" % k)

    @property
    def batch_norm_layers(self):
        """Every layer's batch norm (get_batch_norm(k) for each k), or None."""
        if not self.batch_norm:
            return None
        return [self.get_batch_norm(k) for k in range(self.num_layers)]

    @property
    def standardization(self):
        """(mean, std) per dimension, float64 [E], of the standardize preprocessing."""
        with self._lock:
            fc = self._fc()
            if fc.preprocess != PRE_STANDARDIZE:
                return None
            mean = np.empty(fc.layer.event_size)
            std = np.empty(fc.layer.event_size)
            _lib.check(lib.made_flow_get_standardize(self._handle(), mean.ctypes.data_as(_lib._f64p),
                                                     std.ctypes.data_as(_lib._f64p)))
            return mean, std

    @standardization.setter
    def standardization(self, value):
        with self._lock:
            fc = self._fc()
            e = fc.layer.event_size
            try:
                mean, std = value
            except (TypeError, ValueError):
                raise ValueError("standardization: expected (mean, std), each of %d values" % e)
            m = np.ascontiguousarray(_args.floats("mean", mean), dtype=np.float64)
            s = np.ascontiguousarray(_args.floats("std", std), dtype=np.float64)
            if m.shape != (e,) or s.shape != (e,):
                raise ValueError("standardization: mean and std need shape (%d,), got %s and %s"
                                 % (e, m.shape, s.shape))
            _lib.check(lib.made_flow_set_standardize(self._handle(), m.ctypes.data_as(_lib._f64p),
                                                     s.ctypes.data_as(_lib._f64p)))

    # ---- arguments --------------------------------------------------------------
    def _rows(self, name, x, conditional):
        """x[..., E] and conditional[..., C] broadcast to rows [n, E], [n, C]."""
        fc = self._fc()
        e, csize = fc.layer.event_size, fc.layer.conditional_size
        xa = _args.floats(name, x, width=e)
        batch = xa.shape[:-1]
        ca = None
        if csize:
            if conditional is None:
                raise ValueError("conditional: the flow is conditional (flow layer 0, like "
                                 "every layer, takes %d conditional values), but none was given"
                                 % csize)
            ca = _args.floats("conditional", conditional)
            if ca.ndim == 0 or ca.shape[-1] != csize:
                raise ValueError("conditional: flow layer 0 (like every layer) takes %d "
                                 "conditional values per row, got shape %s" % (csize, ca.shape))
            try:
                batch = np.broadcast_shapes(batch, ca.shape[:-1])
            except ValueError:
                raise ValueError("%s batch shape %s and conditional batch shape %s do not "
                                 "broadcast" % (name, xa.shape[:-1], ca.shape[:-1]))
            ca = np.ascontiguousarray(np.broadcast_to(ca, batch + (csize,)))
            xa = np.ascontiguousarray(np.broadcast_to(xa, batch + (e,)))
        elif conditional is not None:
            raise ValueError("conditional given, but the flow's layers are not conditional")
        return xa, ca, tuple(batch), int(np.prod(batch, dtype=np.int64))

    def _data(self, x, seed):
        """Dequantisation noise for flows trained on pixels, as `made logprob --seed`."""
        levels = self._fc().dequantize_levels
        if not levels:
            return x
        return dequantize("x", x, _args.seed(seed, bits=53), levels)

    # ---- densities and samples -------------------------------------------------
    def log_prob(self, x, conditional=None, seed=0):
        """log p(x) in nats (float64, shape [...]) of data x[..., E], the
        preprocessing and its Jacobian included, as `made logprob`. For a flow
        trained with dequantize=True, x holds pixel values 0..255 and uniform
        noise from `seed` is added first (`made logprob --seed`)."""
        with self._lock:
            h = self._handle()
            xa, ca, batch, n = self._rows("x", x, conditional)
            xa = self._data(xa, seed)
            lp = np.empty(batch, dtype=np.float64)
            if n:
                _lib.check(lib.made_flow_log_prob(h, lp.ctypes.data_as(_lib._f64p),
                                                  _args.fptr(xa), _args.fptr(ca), n))
            return lp

    def nll(self, x, conditional=None, seed=0):
        """Mean negative log-likelihood in nats per example, as `made eval`."""
        with self._lock:
            h = self._handle()
            xa, ca, _, n = self._rows("x", x, conditional)
            if n == 0:
                raise ValueError("x: no examples")
            xa = self._data(xa, seed)
            out = C.c_double()
            _lib.check(lib.made_flow_nll(h, _args.fptr(xa), _args.fptr(ca), n, C.byref(out)))
            return out.value

    def sample(self, n, seed=0, conditional=None):
        """n samples [n, E] (float32) of the original data, as `made sample`:
        standard normal noise from the seed through the forward direction,
        preprocessing undone. conditional: one row [C] for all samples or [n, C]."""
        n = _args.integer("n", n, 0, 1 << 40)
        seed = _args.seed(seed, bits=64)
        with self._lock:
            h, fc = self._handle(), self._fc()
            e, csize = fc.layer.event_size, fc.layer.conditional_size
            ca = None
            if csize:
                if conditional is None:
                    raise ValueError("conditional: the flow is conditional (flow layer 0, like "
                                     "every layer, takes %d conditional values), but none was "
                                     "given" % csize)
                ca = _args.floats("conditional", conditional)
                if ca.ndim == 0 or ca.shape[-1] != csize:
                    raise ValueError("conditional: flow layer 0 (like every layer) takes %d "
                                     "conditional values per row, got shape %s"
                                     % (csize, ca.shape))
                if ca.ndim == 1 or ca.shape[0] == 1 and n != 1 and ca.ndim == 2:
                    ca = np.ascontiguousarray(np.broadcast_to(ca.reshape(-1), (n, csize)))
                elif ca.ndim != 2 or ca.shape[0] != n:
                    raise ValueError("conditional: expected one row [%d] or [n, %d] with n = %d, "
                                     "got shape %s" % (csize, csize, n, ca.shape))
            elif conditional is not None:
                raise ValueError("conditional given, but the flow's layers are not conditional")
            y = np.empty((n, e), dtype=np.float32)
            if n:
                _lib.check(lib.made_flow_sample(h, _args.fptr(y), _args.fptr(ca), n, seed))
            return y

    def check_data(self, x):
        """Raises ValueError (row and column) unless x[..., E] is valid data for
        the flow (finite; within [0, 1], or [0, 256] with dequantize, under the
        logit preprocessing)."""
        with self._lock:
            h = self._handle()
            xa = _args.floats("x", x, width=self._fc().layer.event_size)
            n = int(np.prod(xa.shape[:-1], dtype=np.int64))
            _lib.check(lib.made_flow_check_data(h, _args.fptr(xa), n))

    # ---- the bijector -------------------------------------------------------------
    def _transform(self, fn, name, v, conditional):
        with self._lock:
            h = self._handle()
            va, ca, batch, n = self._rows(name, v, conditional)
            out = np.empty(batch + (va.shape[-1],), dtype=np.float32)
            ldj = np.empty(batch, dtype=np.float64)
            if n:
                _lib.check(fn(h, _args.fptr(out), ldj.ctypes.data_as(_lib._f64p),
                              _args.fptr(va), _args.fptr(ca), n))
            return out, ldj

    def forward_and_log_det(self, x, conditional=None):
        """(y, log|det dy/dx|) of the chain in the sampling direction (base
        noise x[..., E] to flow space; no preprocessing)."""
        return self._transform(lib.made_flow_forward, "x", x, conditional)

    def inverse_and_log_det(self, y, conditional=None):
        """(x, log|det dx/dy|) of the chain in the density direction."""
        return self._transform(lib.made_flow_inverse, "y", y, conditional)

    def forward(self, x, conditional=None):
        """The sampling direction (TFP's bijector.forward), float32 [..., E]."""
        return self.forward_and_log_det(x, conditional)[0]

    def inverse(self, y, conditional=None):
        """The density direction (TFP's bijector.inverse), float32 [..., E]."""
        return self.inverse_and_log_det(y, conditional)[0]

    def forward_log_det_jacobian(self, x, conditional=None):
        """log|det dy/dx| per row (float64), TFP's forward_log_det_jacobian(x, 1)."""
        return self.forward_and_log_det(x, conditional)[1]

    def inverse_log_det_jacobian(self, y, conditional=None):
        """log|det dx/dy| per row (float64), TFP's inverse_log_det_jacobian(y, 1)."""
        return self.inverse_and_log_det(y, conditional)[1]

    # ---- files ------------------------------------------------------------------------
    def save(self, path):
        """Writes the flow as a made .safetensors file (what `made` reads), atomically."""
        p = _args.path("path", path)
        with self._lock:
            _lib.check(lib.made_flow_save(self._handle(), p))

    @staticmethod
    def load(path):
        """Loads a flow file (made.load returns the right kind for any model file)."""
        p = _args.path("path", path)
        h = C.c_void_p()
        _lib.check(lib.made_flow_load(C.byref(h), p))
        return Flow._from_handle(h)

    # ---- TFP ----------------------------------------------------------------------------
    def to_tfp(self):
        """The flow as a tfd.TransformedDistribution over a tfb.Chain of
        tfb.MaskedAutoregressiveFlow (tfb.Invert for IAF) and tfb.Permute, with
        the same weights (needs TensorFlow Probability)."""
        from . import _keras
        return _keras.flow_to_tfp(self)

    def tfp_bijector_kwargs(self, conditional):
        """For a conditional flow converted by to_tfp: the bijector_kwargs that
        hand one conditional input to every layer, e.g.
        dist.log_prob(y, bijector_kwargs=flow.tfp_bijector_kwargs(c))."""
        from . import _keras
        return _keras.tfp_bijector_kwargs(self, conditional)
