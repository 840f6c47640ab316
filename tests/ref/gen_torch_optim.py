#!/usr/bin/env python3
"""Reference optimiser trajectories from PyTorch's torch.optim, for tests/test_optim.c.

How to run (from the repository root; PyTorch is only needed to REGENERATE):

    /usr/bin/python3 tests/ref/gen_torch_optim.py      # Debian 12: apt install python3-torch

(written with Debian 12's python3-torch 1.13.1; any PyTorch >= 1.13 gives the
same numbers to float tolerance). Writes tests/fixtures/torch/optim.txt.

Each case is a flat float32 parameter vector of n values, a fixed sequence of
gradients (one per step), and the parameters torch.optim leaves after every
step. made's trainer applies the same settings to the same vector, step by
step, and must land on the same numbers (tests/test_optim.c). The settings map
to torch as follows (made's definitions: src/train/train.c):

  made adam, weight_decay w   torch.optim.AdamW(lr, betas, eps, weight_decay=w)
                              (decoupled decay, as made does; w = 0 is Adam)
  made sgd, momentum mu, L2 w torch.optim.SGD(lr, momentum=mu, weight_decay=w),
                              dampening 0, not Nesterov (heavy ball, L2 via the
                              gradient)
  made clip_norm c            torch.nn.utils.clip_grad_norm_(p, c) before the
                              step. torch scales by c / (norm + 1e-6), made by
                              c / norm: a relative difference of 1e-6 / norm in
                              the clipped gradient, far below the tolerance.
  made cosine schedule        torch.optim.lr_scheduler.CosineAnnealingLR(
                              T_max = epochs - 1, eta_min = lr_final), stepped
                              once per epoch. made's rate in epoch e (0-based) is
                              lr_final + (lr - lr_final) (1 + cos(pi e / (epochs
                              - 1))) / 2: it reaches lr_final in the last epoch,
                              hence T_max = epochs - 1.
  made step schedule          torch.optim.lr_scheduler.StepLR(step_size =
                              decay_epochs, gamma = decay_rate), stepped per epoch.

File format (text, one token stream; '#' lines are comments):
  case NAME
  config KEY VALUE ... end           made_train_config fields plus epochs and steps
  n N                                 parameters
  init v_1 .. v_N                     starting parameters
  lr_per_epoch r_1 .. r_epochs        the rate torch used in each epoch
  step k  grad g_1 .. g_N  param p_1 .. p_N      (steps k = 1 .. epochs * steps)
  endcase
"""
import math
import os

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "torch", "optim.txt"))


def case(name, optimizer, lr, **kw):
    c = dict(name=name, optimizer=optimizer, lr=lr, beta1=0.9, beta2=0.999, eps=1e-8,
             momentum=0.0, weight_decay=0.0, clip_norm=0.0, schedule="constant",
             lr_final=0.0, decay_rate=0.5, decay_epochs=10, epochs=3, steps=4, n=9,
             gscale=1.0)
    c.update(kw)
    return c


CASES = [
    # Adam's first steps, where both bias corrections matter most.
    case("adam", "adam", 0.01, epochs=2, steps=5),
    case("adam-betas-eps", "adam", 0.003, beta1=0.5, beta2=0.9, eps=1e-3, epochs=2, steps=4),
    # Decoupled (AdamW) weight decay.
    case("adamw-decay", "adam", 0.02, weight_decay=0.1, epochs=2, steps=4),
    # Clipping: gradient norms alternate around the threshold, so some steps
    # are clipped and others are not.
    case("adam-clip", "adam", 0.01, clip_norm=2.0, gscale=0.8, epochs=2, steps=5),
    case("sgd-clip", "sgd", 0.05, momentum=0.5, clip_norm=1.5, gscale=0.6, epochs=2, steps=5),
    # Heavy-ball momentum and L2 decay.
    case("sgd", "sgd", 0.1, epochs=2, steps=3),
    case("sgd-momentum", "sgd", 0.05, momentum=0.9, epochs=2, steps=5),
    case("sgd-momentum-l2", "sgd", 0.05, momentum=0.8, weight_decay=0.05, epochs=2, steps=4),
    # Schedules, one rate per epoch.
    case("adam-cosine", "adam", 0.02, schedule="cosine", lr_final=0.002, epochs=6, steps=2),
    case("sgd-cosine-to-zero", "sgd", 0.1, momentum=0.9, schedule="cosine", epochs=5, steps=2),
    case("sgd-step", "sgd", 0.1, momentum=0.5, schedule="step", decay_rate=0.3, decay_epochs=2,
         epochs=7, steps=2),
    case("adamw-step-clip", "adam", 0.05, weight_decay=0.05, schedule="step", decay_rate=0.5,
         decay_epochs=3, clip_norm=1.0, gscale=0.5, epochs=7, steps=2),
]


def run(c, rng):
    n = c["n"]
    p0 = rng.normal(0.0, 1.0, size=n).astype(np.float32)
    p = torch.nn.Parameter(torch.tensor(p0.copy()))
    if c["optimizer"] == "adam":
        opt = torch.optim.AdamW([p], lr=c["lr"], betas=(c["beta1"], c["beta2"]), eps=c["eps"],
                                weight_decay=c["weight_decay"])
    else:
        opt = torch.optim.SGD([p], lr=c["lr"], momentum=c["momentum"],
                              weight_decay=c["weight_decay"])
    if c["schedule"] == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=c["epochs"] - 1,
                                                           eta_min=c["lr_final"])
    elif c["schedule"] == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=c["decay_epochs"],
                                                gamma=c["decay_rate"])
    else:
        sched = None
    lrs, steps = [], []
    k = 0
    for e in range(c["epochs"]):
        lr = opt.param_groups[0]["lr"]
        if c["schedule"] == "cosine":  # the closed form made uses, as a cross-check
            want = c["lr_final"] + 0.5 * (c["lr"] - c["lr_final"]) * (
                1 + math.cos(math.pi * e / (c["epochs"] - 1)))
            assert abs(lr - want) < 1e-12 * c["lr"], (c["name"], e, lr, want)
        lrs.append(lr)
        for _ in range(c["steps"]):
            k += 1
            # Gradient norms swing by a factor of ~4 from step to step.
            scale = c["gscale"] * (2.0 if k % 2 else 0.5) * math.sqrt(n)
            g = (rng.normal(0.0, 1.0, size=n) * scale / math.sqrt(n)).astype(np.float32)
            p.grad = torch.tensor(g.copy())
            if c["clip_norm"] > 0:
                torch.nn.utils.clip_grad_norm_([p], c["clip_norm"])
            opt.step()
            steps.append((k, g, p.detach().numpy().copy()))
        if sched is not None:
            sched.step()
    return p0, lrs, steps


def fmt(v):
    return " ".join(repr(float(x)) for x in np.asarray(v, dtype=np.float32))


def main():
    rng = np.random.default_rng(20261130)
    lines = ["# torch %s; generated by tests/ref/gen_torch_optim.py" % torch.__version__]
    for c in CASES:
        p0, lrs, steps = run(c, rng)
        lines.append("case %s" % c["name"])
        keys = ("optimizer", "lr", "beta1", "beta2", "eps", "momentum", "weight_decay",
                "clip_norm", "schedule", "lr_final", "decay_rate", "decay_epochs", "epochs",
                "steps")
        lines.append("config " + " ".join("%s %s" % (k_, c[k_]) for k_ in keys) + " end")
        lines.append("n %d" % c["n"])
        lines.append("init " + fmt(p0))
        lines.append("lr_per_epoch " + " ".join(repr(float(r)) for r in lrs))
        for k, g, p in steps:
            lines.append("step %d grad %s param %s" % (k, fmt(g), fmt(p)))
        lines.append("endcase")
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d cases to %s" % (len(CASES), OUT))


if __name__ == "__main__":
    main()
