"""_network.py - AutoregressiveNetwork: TFP's tfp.bijectors.AutoregressiveNetwork
arguments over a libmade model handle."""
import ctypes as C

import numpy as np

from . import _args, _lib
from ._lib import lib


class AutoregressiveNetwork(_lib.OwnedHandle):
    """A MADE network with the arguments, defaults and outputs of TensorFlow
    Probability's ``tfp.bijectors.AutoregressiveNetwork``.

    ``net(x)`` maps ``x[..., E]`` to ``[..., E, params]``. An explicit
    ``input_order`` is 1-based, as in TFP. ``seed`` plays the part of
    ``np.random.seed(seed)`` before TFP builds the layer ('random' orders and
    degrees) and also seeds the initial weights; ``None`` means 0, as in the
    command line. Without ``event_shape`` the network is built on its first
    call, as in TFP.
    """

    def __init__(self, params, event_shape=None, hidden_units=None,
                 input_order='left-to-right', hidden_degrees='equal', activation=None,
                 use_bias=True, kernel_initializer='glorot_uniform', bias_initializer='zeros',
                 validate_args=False, conditional_event_shape=None,
                 conditional_input_layers='all_layers', seed=None, *, conditional=None,
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None):
        self._own(None)
        for name, v in (("kernel_regularizer", kernel_regularizer),
                        ("bias_regularizer", bias_regularizer),
                        ("kernel_constraint", kernel_constraint),
                        ("bias_constraint", bias_constraint)):
            if v is not None:
                raise ValueError("%s: not supported by made (only None)" % name)
        cfg = _lib.Config()
        lib.made_config_default(C.byref(cfg))
        cfg.params = _args.integer("params", params, 1, 1 << 30)
        event = _args.rank1_size("event_shape", event_shape)
        units = _args.hidden_units(hidden_units)
        cfg.n_hidden = len(units)
        for i, u in enumerate(units):
            cfg.hidden_units[i] = u
        cfg.input_order, self._explicit = _args.input_order(input_order)
        cfg.hidden_degrees = _args.choice("hidden_degrees", hidden_degrees, _args.DEGREES)
        cfg.activation = _args.activation(activation)
        cfg.use_bias = _args.flag("use_bias", use_bias)
        cfg.kernel_initializer = _args.initializer("kernel_initializer", kernel_initializer)
        cfg.bias_initializer = _args.initializer("bias_initializer", bias_initializer)
        cfg.validate_args = _args.flag("validate_args", validate_args)
        cond = _args.rank1_size("conditional_event_shape", conditional_event_shape)
        if conditional is not None and _args.flag("conditional", conditional) != (cond is not None):
            raise ValueError("conditional_event_shape must be given exactly when "
                             "conditional is True")
        if cond is not None and event is None:
            raise ValueError("event_shape must be given when the network is conditional")
        cfg.conditional_size = cond or 0
        cfg.conditional_layers = _args.choice("conditional_input_layers",
                                              conditional_input_layers,
                                              {"all_layers": 0, "first_layer": 1})
        cfg.seed = _args.seed(seed)
        self._init_cfg(cfg, event)

    def _init_cfg(self, cfg, event):
        """Keeps the configuration; builds now when the event size is known."""
        self._cfg = cfg
        if event is not None:
            self._build(event)

    def _build(self, event):
        cfg = self._cfg
        cfg.event_size = event
        order = None
        if self._explicit is not None:
            if len(self._explicit) != event:
                raise ValueError("input_order: %d entries, but the event size is %d"
                                 % (len(self._explicit), event))
            order = (C.c_int * event)(*self._explicit)
            cfg.explicit_order = C.cast(order, C.POINTER(C.c_int))
        h = C.c_void_p()
        st = lib.made_model_create(C.byref(h), C.byref(cfg))
        cfg.explicit_order = None
        _lib.check(st)
        self._h = h

    @classmethod
    def _from_handle(cls, h):
        self = cls.__new__(cls)
        self._own(h)
        self._explicit = None
        self._cfg = _lib.Config()
        C.pointer(self._cfg)[0] = lib.made_model_config(h).contents
        self._cfg.explicit_order = None
        return self

    # ---- life cycle (close, with: _lib.OwnedHandle) ----------------------------
    def _free_handle(self, h):
        lib.made_model_free(h)

    def _handle(self):
        if self._closed:
            raise ValueError("made: the model was closed")
        if self._h is None:
            raise ValueError("made: the network is not built yet (give event_shape, or call "
                             "it once on an input)")
        return self._h

    @property
    def built(self):
        return self._h is not None

    # ---- configuration -------------------------------------------------------
    def _config(self):
        return lib.made_model_config(self._handle()).contents

    @property
    def params(self):
        return self._cfg.params

    @property
    def event_shape(self):
        return [self._cfg.event_size] if self._h is not None else None

    @property
    def event_size(self):
        return self._config().event_size

    @property
    def conditional(self):
        return self._cfg.conditional_size > 0

    @property
    def conditional_event_shape(self):
        c = self._cfg.conditional_size
        return [c] if c else None

    @property
    def hidden_units(self):
        return [self._cfg.hidden_units[i] for i in range(self._cfg.n_hidden)]

    @property
    def input_order(self):
        """The order in use, 1-based (also for 'left-to-right' and 'random')."""
        with self._lock:
            cfg = self._config()
            return np.array([cfg.explicit_order[i] for i in range(cfg.event_size)], dtype=np.int64)

    def get_config(self):
        """The constructor's arguments, as made keeps them."""
        cfg = self._cfg
        kind = cfg.input_order
        order = (self.input_order.tolist() if kind == 3 and self._h is not None
                 else self._explicit if kind == 3 else lib.made_order_name(kind).decode())
        act = lib.made_activation_name(cfg.activation).decode()
        return {
            "params": cfg.params,
            "event_shape": self.event_shape,
            "hidden_units": self.hidden_units,
            "input_order": order,
            "hidden_degrees": lib.made_degrees_name(cfg.hidden_degrees).decode(),
            "activation": None if act == "linear" else act,
            "use_bias": bool(cfg.use_bias),
            "kernel_initializer": _args.initializer_text(cfg.kernel_initializer),
            "bias_initializer": _args.initializer_text(cfg.bias_initializer),
            "validate_args": bool(cfg.validate_args),
            "conditional_event_shape": self.conditional_event_shape,
            "conditional_input_layers": lib.made_cond_layers_name(cfg.conditional_layers).decode(),
            "seed": int(cfg.seed),
        }

    def __repr__(self):
        if self._closed:
            return "<made.%s (closed)>" % type(self).__name__
        c = self.get_config()
        return ("<made.%s params=%d event_shape=%s hidden_units=%s input_order=%r "
                "activation=%r>" % (type(self).__name__, c["params"], c["event_shape"],
                                    c["hidden_units"], c["input_order"], c["activation"]))

    # ---- structure ------------------------------------------------------------
    @property
    def degrees(self):
        """[input degrees (the input order), hidden layer 1 degrees, ...]."""
        with self._lock:
            h = self._handle()
            cfg = self._config()
            sizes = [cfg.event_size] + [cfg.hidden_units[i] for i in range(cfg.n_hidden)]
            out = []
            for l, n in enumerate(sizes):
                d = np.empty(n, dtype=np.int32)
                _lib.check(lib.made_model_degrees(h, l, d.ctypes.data_as(_lib._i32p)))
                out.append(d.astype(np.int64))
            return out

    @property
    def masks(self):
        """One boolean [in, out] mask per dense layer, TFP's layout."""
        with self._lock:
            h = self._handle()
            out = []
            for l in range(lib.made_model_num_layers(h)):
                i, o = C.c_int(), C.c_int()
                _lib.check(lib.made_model_layer_shape(h, l, C.byref(i), C.byref(o)))
                m = np.empty((i.value, o.value), dtype=np.uint8)
                _lib.check(lib.made_model_mask(h, l, m.ctypes.data_as(_lib._u8p)))
                out.append(m.astype(bool))
            return out

    def count_params(self):
        """Parameters as TFP/Keras count them (masked kernel entries included)."""
        with self._lock:
            return int(lib.made_model_num_params(self._handle()))

    def count_free_params(self):
        """Parameters that can be non-zero."""
        with self._lock:
            return int(lib.made_model_num_free_params(self._handle()))

    @property
    def record(self):
        """What the model's file records besides its parameters (`made info`):
        a dict of binarize, epochs_run, best_epoch, stop, train_nll and
        val_nll (None where made info --json shows null)."""
        with self._lock:
            return _lib.record_dict(lib.made_model_get_record(self._handle()))

    @property
    def threads(self):
        return getattr(self, "_threads", 1)

    @threads.setter
    def threads(self, n):
        n = _args.integer("threads", n, 1, 1024)
        with self._lock:
            _lib.check(lib.made_model_set_threads(self._handle(), n))
        self._threads = n

    @property
    def num_masks(self):
        return self._cfg.num_masks

    @property
    def mask_index(self):
        """Which mask set forward, scoring and sampling use (order-agnostic models)."""
        with self._lock:
            return lib.made_model_mask_index(self._handle())

    @mask_index.setter
    def mask_index(self, k):
        k = _args.integer("mask_index", k, 0, (1 << 31) - 1)
        with self._lock:
            _lib.check(lib.made_model_set_mask(self._handle(), k))

    # ---- weights --------------------------------------------------------------
    def _weight_specs(self, h):
        specs = []
        for k in range(lib.made_model_num_weights(h)):
            name, rank, shape = C.c_char_p(), C.c_int(), (C.c_int * 2)()
            _lib.check(lib.made_model_weight_info(h, k, C.byref(name), C.byref(rank), shape))
            specs.append((name.value.decode(), tuple(shape[:rank.value])))
        return specs

    @property
    def weight_names(self):
        with self._lock:
            return [n for n, _ in self._weight_specs(self._handle())]

    def get_weights(self):
        """Weights in Keras' get_weights() order: [W_1, b_1, (V_1), ..., W_out, b_out, (V_out)]."""
        if self._h is None and not self._closed:
            return []
        with self._lock:
            h = self._handle()
            out = []
            for k, (_, shape) in enumerate(self._weight_specs(h)):
                w = np.empty(shape, dtype=np.float32)
                _lib.check(lib.made_model_get_weight(h, k, _args.fptr(w), w.size))
                out.append(w)
            return out

    def set_weights(self, weights):
        """Sets all weights from a list in Keras order. Masked kernel entries are
        set to zero (made keeps the autoregressive property at all times).
        Nothing changes if any tensor is wrong."""
        with self._lock:
            h = self._handle()
            specs = self._weight_specs(h)
            if isinstance(weights, np.ndarray) or not isinstance(weights, (list, tuple)):
                raise _args.ArgTypeError("set_weights: expected a list of %d arrays" % len(specs))
            if len(weights) != len(specs):
                raise ValueError("set_weights: %d arrays given, the network has %d (%s)"
                                 % (len(weights), len(specs), ", ".join(n for n, _ in specs)))
            arrays = []
            for k, (w, (name, shape)) in enumerate(zip(weights, specs)):
                a = _args.floats("weights[%d] (%s)" % (k, name), w, min_ndim=0)
                if a.shape != shape:
                    raise ValueError("set_weights: weights[%d] (%s) has shape %s, expected %s"
                                     % (k, name, a.shape, shape))
                if not np.all(np.isfinite(a)):
                    raise ValueError("set_weights: weights[%d] (%s) holds NaN or Inf"
                                     % (k, name))
                arrays.append(a)
            for k, a in enumerate(arrays):
                _lib.check(lib.made_model_set_weight(h, k, _args.fptr(a), a.size),
                           "set_weights")

    # ---- the network ----------------------------------------------------------
    def __call__(self, x, conditional_input=None):
        """y[..., E, params] = network(x[..., E]); batch shapes of x and
        conditional_input broadcast as in TFP."""
        xa = _args.floats("x", x)
        if self._h is None and not self._closed:
            with self._lock:
                if self._h is None:
                    self._build(_args.integer("x.shape[-1]", xa.shape[-1], 1, 1 << 30))
        with self._lock:
            h = self._handle()
            cfg = self._config()
            e, p, csize = cfg.event_size, cfg.params, cfg.conditional_size
            if xa.shape[-1] != e:
                raise ValueError("x: the last axis must have %d values, got shape %s"
                                 % (e, xa.shape))
            batch = xa.shape[:-1]
            ca = None
            if csize:
                if conditional_input is None:
                    raise ValueError("conditional_input must be passed: the network is "
                                     "conditional")
                ca = _args.floats("conditional_input", conditional_input, width=csize)
                try:
                    batch = np.broadcast_shapes(xa.shape[:-1], ca.shape[:-1])
                except ValueError:
                    raise ValueError("x batch shape %s and conditional_input batch shape %s "
                                     "do not broadcast" % (xa.shape[:-1], ca.shape[:-1]))
                ca = np.ascontiguousarray(np.broadcast_to(ca, batch + (csize,)))
                xa = np.ascontiguousarray(np.broadcast_to(xa, batch + (e,)))
            elif conditional_input is not None:
                raise ValueError("conditional_input given, but the network is not conditional")
            n = int(np.prod(batch, dtype=np.int64))
            y = np.empty(tuple(batch) + (e, p), dtype=np.float32)
            if n:
                _lib.check(lib.made_model_forward(h, _args.fptr(y), _args.fptr(xa),
                                                  _args.fptr(ca), n))
            return y

    # ---- files ----------------------------------------------------------------
    def save(self, path):
        """Writes the model as a made .safetensors file (atomically)."""
        p = _args.path("path", path)
        with self._lock:
            _lib.check(lib.made_model_save(self._handle(), p))

    @staticmethod
    def load(path):
        """Loads a made model file (a DensityModel if it has a distribution, a
        Flow for a flow file)."""
        return load(path)

    # ---- TFP ------------------------------------------------------------------
    def to_keras(self):
        """A tfp.bijectors.AutoregressiveNetwork with the same configuration and
        weights (needs TensorFlow Probability)."""
        from . import _keras
        return _keras.to_keras(self)


def load(path):
    """Loads a made model file: a Flow for a flow file, a DensityModel when the
    file has an output distribution, else an AutoregressiveNetwork."""
    p = _args.path("path", path)
    if lib.made_file_is_flow(p) == 1:
        from ._flow import Flow
        return Flow.load(p)
    h = C.c_void_p()
    _lib.check(lib.made_model_load(C.byref(h), p))
    if lib.made_model_config(h).contents.dist.kind != 0:
        from ._density import DensityModel
        return DensityModel._from_handle(h)
    return AutoregressiveNetwork._from_handle(h)
