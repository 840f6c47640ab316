"""_lib.py - loading libmade with ctypes: the public C structs, function
signatures and status codes turned into Python exceptions.

Only the public API (include/made.h) is bound. ctypes releases the GIL during
every foreign call, so long calls (forward, training, sampling) let other
Python threads run.
"""
import ctypes as C
import os
import threading

# ---- status codes (include/made.h, MADE_STATUS_MAP) ----------------------------
OK = 0
E_INVAL = -1
E_NOMEM = -2
E_IO = -3
E_FORMAT = -4
E_SHAPE = -5
E_NONFINITE = -6
E_DOMAIN = -7
E_UNSUPPORTED = -8
E_INTERRUPTED = -9

MAX_HIDDEN = 32
MAX_DIMS = 8


# ---- the public structs, field for field ---------------------------------------
class Initializer(C.Structure):
    _fields_ = [
        ("kind", C.c_int),
        ("value", C.c_double),
        ("minval", C.c_double),
        ("maxval", C.c_double),
        ("mean", C.c_double),
        ("stddev", C.c_double),
        ("scale", C.c_double),
        ("mode", C.c_int),
        ("distribution", C.c_int),
    ]


class Dist(C.Structure):
    _fields_ = [("kind", C.c_int), ("k", C.c_int)]


class Config(C.Structure):
    _fields_ = [
        ("event_size", C.c_int),
        ("params", C.c_int),
        ("n_hidden", C.c_int),
        ("hidden_units", C.c_int * MAX_HIDDEN),
        ("input_order", C.c_int),
        ("explicit_order", C.POINTER(C.c_int)),
        ("hidden_degrees", C.c_int),
        ("activation", C.c_int),
        ("use_bias", C.c_int),
        ("kernel_initializer", Initializer),
        ("bias_initializer", Initializer),
        ("conditional_size", C.c_int),
        ("conditional_layers", C.c_int),
        ("validate_args", C.c_int),
        ("seed", C.c_uint32),
        ("dist", Dist),
        ("num_masks", C.c_int),
    ]


class FlowConfig(C.Structure):
    """made_flow_config. The reserve after the last field takes fields a newer
    library may append (made_flow_config_default fills them); _check_layout
    compares the documented defaults, so a change inside the struct is caught."""
    _fields_ = [
        ("kind", C.c_int),
        ("num_layers", C.c_int),
        ("layer", Config),
        ("permutation", C.c_int),
        ("explicit_permutation", C.POINTER(C.c_int)),
        ("permutation_seed", C.c_uint32),
        ("scale", C.c_int),
        ("batch_norm", C.c_int),
        ("batch_norm_eps", C.c_double),
        ("batch_norm_momentum", C.c_double),
        ("preprocess", C.c_int),
        ("logit_lambda", C.c_double),
        ("dequantize_levels", C.c_int),
        ("share_weights", C.c_int),
        ("_reserve", C.c_char * 256),
    ]


class TrainConfig(C.Structure):
    _fields_ = [
        ("optimizer", C.c_int),
        ("lr", C.c_double),
        ("beta1", C.c_double),
        ("beta2", C.c_double),
        ("eps", C.c_double),
        ("momentum", C.c_double),
        ("weight_decay", C.c_double),
        ("clip_norm", C.c_double),
        ("schedule", C.c_int),
        ("lr_final", C.c_double),
        ("decay_rate", C.c_double),
        ("decay_epochs", C.c_int),
        ("batch_size", C.c_int),
        ("epochs", C.c_int),
        ("patience", C.c_int),
        ("resample_every", C.c_int),
        ("seed", C.c_uint64),
    ]


class Progress(C.Structure):
    _fields_ = [
        ("epoch", C.c_int),
        ("epochs", C.c_int),
        ("batch", C.c_size_t),
        ("batches", C.c_size_t),
        ("step", C.c_longlong),
        ("train_nll", C.c_double),
        ("val_nll", C.c_double),
        ("best_val_nll", C.c_double),
        ("improved", C.c_int),
        ("lr", C.c_double),
        ("examples_per_sec", C.c_double),
        ("seconds", C.c_double),
        ("epoch_done", C.c_int),
    ]


class Array(C.Structure):
    _fields_ = [
        ("data", C.POINTER(C.c_float)),
        ("ndim", C.c_int),
        ("shape", C.c_size_t * MAX_DIMS),
    ]


class Record(C.Structure):
    _fields_ = [
        ("binarize", C.c_double),
        ("epochs_run", C.c_int),
        ("best_epoch", C.c_int),
        ("stop", C.c_int),
        ("train_nll", C.c_double),
        ("val_nll", C.c_double),
    ]


PROGRESS_FN = C.CFUNCTYPE(C.c_int, C.c_void_p, C.POINTER(Progress))

_f32p = C.POINTER(C.c_float)
_f64p = C.POINTER(C.c_double)
_i32p = C.POINTER(C.c_int)
_u8p = C.POINTER(C.c_uint8)
_vp = C.c_void_p
_sz = C.c_size_t
_int = C.c_int
_cfgp = C.POINTER(Config)
_tcfgp = C.POINTER(TrainConfig)
_fcfgp = C.POINTER(FlowConfig)

# name: (return type, argument types)
_SIGNATURES = {
    "made_version_string": (C.c_char_p, []),
    "made_strerror": (C.c_char_p, [_int]),
    "made_status_name": (C.c_char_p, [_int]),
    "made_last_error": (C.c_char_p, []),
    "made_config_default": (None, [_cfgp]),
    "made_initializer_parse": (_int, [C.c_char_p, C.POINTER(Initializer)]),
    "made_initializer_format": (_int, [C.c_char_p, _sz, C.POINTER(Initializer)]),
    "made_activation_parse": (_int, [C.c_char_p, _i32p]),
    "made_activation_name": (C.c_char_p, [_int]),
    "made_cond_layers_parse": (_int, [C.c_char_p, _i32p]),
    "made_cond_layers_name": (C.c_char_p, [_int]),
    "made_order_name": (C.c_char_p, [_int]),
    "made_degrees_name": (C.c_char_p, [_int]),
    "made_dist_parse": (_int, [C.c_char_p, C.POINTER(Dist)]),
    "made_dist_format": (_int, [C.c_char_p, _sz, Dist]),
    "made_dist_params": (_int, [Dist]),
    "made_config_validate": (_int, [_cfgp]),
    "made_model_create": (_int, [C.POINTER(_vp), _cfgp]),
    "made_model_free": (None, [_vp]),
    "made_model_config": (_cfgp, [_vp]),
    "made_model_get_record": (C.POINTER(Record), [_vp]),
    "made_stop_name": (C.c_char_p, [_int]),
    "made_model_num_layers": (_int, [_vp]),
    "made_model_layer_shape": (_int, [_vp, _int, _i32p, _i32p]),
    "made_model_degrees": (_int, [_vp, _int, _i32p]),
    "made_model_mask": (_int, [_vp, _int, _u8p]),
    "made_model_num_params": (_sz, [_vp]),
    "made_model_num_free_params": (_sz, [_vp]),
    "made_model_num_weights": (_int, [_vp]),
    "made_model_weight_info": (_int, [_vp, _int, C.POINTER(C.c_char_p), _i32p, _i32p]),
    "made_model_get_weight": (_int, [_vp, _int, _f32p, _sz]),
    "made_model_set_weight": (_int, [_vp, _int, _f32p, _sz]),
    "made_model_set_threads": (_int, [_vp, _int]),
    "made_model_forward": (_int, [_vp, _f32p, _f32p, _f32p, _sz]),
    "made_model_set_mask": (_int, [_vp, _int]),
    "made_model_mask_index": (_int, [_vp]),
    "made_model_save": (_int, [_vp, C.c_char_p]),
    "made_model_load": (_int, [C.POINTER(_vp), C.c_char_p]),
    "made_config_to_json": (_int, [_cfgp, C.c_char_p, _sz]),
    "made_array_free": (None, [C.POINTER(Array)]),
    "made_data_read": (_int, [C.POINTER(Array), C.c_char_p]),
    "made_model_log_prob": (_int, [_vp, _f64p, _f32p, _f32p, _sz]),
    "made_model_log_prob_ensemble": (_int, [_vp, _f64p, _f32p, _f32p, _sz, _int]),
    "made_model_check_data": (_int, [_vp, _f32p, _sz]),
    "made_model_sample": (_int, [_vp, _f32p, _f32p, _sz, C.c_uint64]),
    "made_model_sample_naive": (_int, [_vp, _f32p, _f32p, _sz, C.c_uint64]),
    "made_train_config_default": (None, [_tcfgp]),
    "made_train_config_validate": (_int, [_tcfgp]),
    "made_trainer_create": (_int, [C.POINTER(_vp), _vp, _tcfgp]),
    "made_trainer_free": (None, [_vp]),
    "made_trainer_config": (_tcfgp, [_vp]),
    "made_trainer_fit": (_int, [_vp, _f32p, _f32p, _sz, _f32p, _f32p, _sz, PROGRESS_FN, _vp]),
    "made_trainer_save": (_int, [_vp, C.c_char_p]),
    "made_trainer_resume": (_int, [C.POINTER(_vp), C.POINTER(_vp), C.c_char_p]),
    "made_model_nll": (_int, [_vp, _f32p, _f32p, _sz, _int, _f64p]),
    # flows
    "made_flow_config_default": (None, [_fcfgp]),
    "made_flow_config_validate": (_int, [_fcfgp]),
    "made_flow_kind_name": (C.c_char_p, [_int]),
    "made_flow_kind_parse": (_int, [C.c_char_p, _i32p]),
    "made_flow_permutation_name": (C.c_char_p, [_int]),
    "made_flow_permutation_parse": (_int, [C.c_char_p, _i32p]),
    "made_flow_scale_name": (C.c_char_p, [_int]),
    "made_flow_scale_parse": (_int, [C.c_char_p, _i32p]),
    "made_flow_create": (_int, [C.POINTER(_vp), _fcfgp]),
    "made_flow_free": (None, [_vp]),
    "made_flow_get_config": (_fcfgp, [_vp]),
    "made_flow_get_record": (C.POINTER(Record), [_vp]),
    "made_dequantize": (_int, [_f32p, _sz, _sz, C.c_uint64, _int]),
    "made_flow_layer": (_vp, [_vp, _int]),
    "made_flow_get_permutation": (_int, [_vp, _int, _i32p]),
    "made_flow_get_batchnorm": (_int, [_vp, _int, _f32p, _f32p, _f32p, _f32p]),
    "made_flow_set_batchnorm": (_int, [_vp, _int, _f32p, _f32p, _f32p, _f32p]),
    "made_flow_get_standardize": (_int, [_vp, _f64p, _f64p]),
    "made_flow_set_standardize": (_int, [_vp, _f64p, _f64p]),
    "made_flow_num_params": (_sz, [_vp]),
    "made_flow_set_threads": (_int, [_vp, _int]),
    "made_flow_forward": (_int, [_vp, _f32p, _f64p, _f32p, _f32p, _sz]),
    "made_flow_inverse": (_int, [_vp, _f32p, _f64p, _f32p, _f32p, _sz]),
    "made_flow_log_prob": (_int, [_vp, _f64p, _f32p, _f32p, _sz]),
    "made_flow_sample": (_int, [_vp, _f32p, _f32p, _sz, C.c_uint64]),
    "made_flow_standardize_from_data": (_int, [_vp, _f32p, _sz]),
    "made_flow_batchnorm_from_data": (_int, [_vp, _f32p, _f32p, _sz]),
    "made_flow_check_data": (_int, [_vp, _f32p, _sz]),
    "made_flow_nll": (_int, [_vp, _f32p, _f32p, _sz, _f64p]),
    "made_flow_save": (_int, [_vp, C.c_char_p]),
    "made_flow_load": (_int, [C.POINTER(_vp), C.c_char_p]),
    "made_file_is_flow": (_int, [C.c_char_p]),
    "made_flow_trainer_create": (_int, [C.POINTER(_vp), _vp, _tcfgp]),
    "made_flow_trainer_resume": (_int, [C.POINTER(_vp), C.POINTER(_vp), C.c_char_p]),
}


def _library_path():
    """The bundled libmade.so, or $MADE_LIBRARY (for testing a build tree)."""
    env = os.environ.get("MADE_LIBRARY")
    if env:
        return env
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "libmade.so")


def _load():
    path = _library_path()
    if not os.path.exists(path):
        raise ImportError(
            "made: the compiled library %s is missing; install the package with "
            "'pip install ./python' from the made repository (it builds libmade)" % path)
    lib = C.CDLL(path)
    for name, (res, args) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
    _check_layout(lib)
    return lib


def _check_layout(lib):
    """The struct mirrors above must match the library's: compare the defaults
    the library writes with the documented ones."""
    cfg = Config()
    lib.made_config_default(C.byref(cfg))
    tc = TrainConfig()
    lib.made_train_config_default(C.byref(tc))
    ok = (cfg.params == 1 and cfg.use_bias == 1 and cfg.num_masks == 1 and
          cfg.bias_initializer.kind == 6 and cfg.kernel_initializer.maxval == 0.05 and
          cfg.bias_initializer.scale == 1.0 and tc.lr == 1e-3 and tc.beta2 == 0.999 and
          tc.batch_size == 100 and tc.epochs == 10 and tc.resample_every == 1 and
          tc.decay_epochs == 10 and tc.decay_rate == 0.5)
    fc = FlowConfig()
    lib.made_flow_config_default(C.byref(fc))
    ok = ok and (fc.num_layers == 1 and fc.layer.params == 2 and fc.layer.num_masks == 1 and
                 fc.batch_norm_eps == 1e-5 and fc.batch_norm_momentum == 0.9 and
                 fc.logit_lambda == 1e-6 and fc.dequantize_levels == 0 and
                 fc.share_weights == 0)
    if not ok:
        raise ImportError("made: the Python bindings do not match the structs of %s "
                          "(a different libmade version?)" % _library_path())


lib = _load()
VERSION = lib.made_version_string().decode()


def record_dict(ptr):
    """A made_model_record as `made info --json` shows it: NaN is None."""
    r = ptr.contents

    def num(v):
        return None if v != v else v
    return {"binarize": num(r.binarize), "epochs_run": r.epochs_run,
            "best_epoch": r.best_epoch, "stop": lib.made_stop_name(r.stop).decode(),
            "train_nll": num(r.train_nll), "val_nll": num(r.val_nll)}


# ---- errors -----------------------------------------------------------------------
def last_error():
    return lib.made_last_error().decode("utf-8", "replace")


def error(status, what=None):
    """The exception for a made status: ValueError (arguments, data, shapes),
    OSError (files), MemoryError. The message is made's own."""
    msg = last_error() or lib.made_strerror(status).decode()
    if what:
        msg = "%s: %s" % (what, msg)
    if status in (E_IO, E_FORMAT):
        exc = OSError(msg)
    elif status == E_NOMEM:
        exc = MemoryError(msg)
    else:
        exc = ValueError(msg)
    exc.status = lib.made_status_name(status).decode()
    return exc


def check(status, what=None):
    if status != OK:
        raise error(status, what)


# ---- the life cycle of an object owning a made handle ------------------------------
class OwnedHandle:
    """close() frees the handle now (the garbage collector otherwise); `with`
    closes it at the end; any later use raises ValueError. A subclass names
    its free function in _free_handle."""

    def _own(self, h):
        """Starts owning handle h (None until it is created)."""
        self._h = h
        self._lock = HandleLock()
        self._closed = False

    def _free_handle(self, h):
        raise NotImplementedError

    def close(self):
        """Frees the handle now (a flow's layers with it); later use raises ValueError."""
        with self._lock:
            if self._h is not None:
                self._free_handle(self._h)
            self._h = None
            self._closed = True

    def __del__(self):
        h = getattr(self, "_h", None)
        if h is not None:
            self._free_handle(h)
            self._h = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


# ---- one caller at a time per handle ---------------------------------------------
class HandleLock:
    """A made handle may be used by one thread at a time. Other threads wait;
    the same thread re-entering (e.g. from a training progress callback) gets
    an error instead of touching a handle that is in use."""

    def __init__(self):
        self._lock = threading.Lock()
        self._owner = None

    def __enter__(self):
        me = threading.get_ident()
        if not self._lock.acquire(blocking=False):
            if self._owner == me:
                raise RuntimeError("made: this model is in use by a call that has not "
                                   "returned (e.g. fit() running the progress callback)")
            self._lock.acquire()
        self._owner = me
        return self

    def __exit__(self, *exc):
        self._owner = None
        self._lock.release()
        return False
