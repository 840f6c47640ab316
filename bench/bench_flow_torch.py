"""A plain PyTorch MAF of the same architecture as made's, for
bench/bench_flow.py: K MADE layers (TFP's masks: left-to-right order, 'equal'
hidden degrees), ReLU, glorot-uniform kernels and zero biases, shift and
log-scale with exp (index 0 the shift, as TFP), reverse permutations between
layers, optional batch norm after each layer in the density direction (made's:
src/flow/batchnorm.c and src/flow/train.c), standard normal base. Sampling
inverts each layer with E network passes, as TFP, nflows and Pyro do."""
import math

import torch

from bench import tfp_masks


class MaskedLinear(torch.nn.Linear):
    def __init__(self, mask):
        super().__init__(mask.shape[0], mask.shape[1])
        self.register_buffer("mask", torch.tensor(mask.T))
        torch.nn.init.xavier_uniform_(self.weight)
        torch.nn.init.zeros_(self.bias)

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight * self.mask, self.bias)


class MADE(torch.nn.Module):
    """Outputs shift and log-scale, [N, E] each."""

    def __init__(self, E, hidden):
        super().__init__()
        layers = []
        for i, m in enumerate(tfp_masks(E, hidden, params=2)):
            layers.append(MaskedLinear(m))
            if i < len(hidden):
                layers.append(torch.nn.ReLU())
        self.net = torch.nn.Sequential(*layers)
        self.E = E

    def forward(self, y):
        out = self.net(y).view(-1, self.E, 2)
        return out[..., 0], out[..., 1]


class BatchNorm(torch.nn.Module):
    """Density direction v = (u - mean) / sqrt(var + eps) exp(gamma) + beta:
    the batch's mean and biased variance in training (running averages updated
    with momentum 0.9), the running averages otherwise."""

    def __init__(self, E, momentum=0.9, eps=1e-5):
        super().__init__()
        self.gamma = torch.nn.Parameter(torch.zeros(E))
        self.beta = torch.nn.Parameter(torch.zeros(E))
        self.register_buffer("mean", torch.zeros(E))
        self.register_buffer("var", torch.ones(E))
        self.momentum, self.eps = momentum, eps

    def forward(self, u):
        if self.training:
            m, v = u.mean(0), u.var(0, unbiased=False)
            with torch.no_grad():
                self.mean.mul_(self.momentum).add_((1 - self.momentum) * m)
                self.var.mul_(self.momentum).add_((1 - self.momentum) * v)
        else:
            m, v = self.mean, self.var
        log_scale = self.gamma - 0.5 * torch.log(v + self.eps)
        return (u - m) * torch.exp(log_scale) + self.beta, log_scale.sum()

    def inverse(self, v):
        log_scale = self.gamma - 0.5 * torch.log(self.var + self.eps)
        return (v - self.beta) * torch.exp(-log_scale) + self.mean


class MAF(torch.nn.Module):
    def __init__(self, E, K, hidden, batch_norm=False):
        super().__init__()
        self.layers = torch.nn.ModuleList(MADE(E, hidden) for _ in range(K))
        self.bns = torch.nn.ModuleList(BatchNorm(E) for _ in range(K)) if batch_norm else None
        self.E = E

    def down_to(self, y, k_stop):
        """Density direction from the data down to layer k_stop's output
        (before its batch norm); returns it and the log-determinant so far."""
        ld = torch.zeros(y.shape[0])
        for k in reversed(range(k_stop, len(self.layers))):
            if k < len(self.layers) - 1:
                y = y.flip(-1)  # the reverse permutation is its own inverse
            s, u = self.layers[k](y)
            y = (y - s) * torch.exp(-u)
            ld = ld - u.sum(-1)
            if self.bns is not None and k > k_stop:
                y, l = self.bns[k](y)
                ld = ld + l
        return y, ld

    def log_prob(self, y):
        y, ld = self.down_to(y, 0)
        if self.bns is not None:
            y, l = self.bns[0](y)
            ld = ld + l
        return -0.5 * (y ** 2).sum(-1) - 0.5 * self.E * math.log(2 * math.pi) + ld

    def batchnorm_from_data(self, x):
        """made's final pass: each batch norm's statistics from the whole
        training set (biased variance), top layer first, in evaluation mode."""
        for k in reversed(range(len(self.layers))):
            s1 = torch.zeros(self.E, dtype=torch.float64)
            s2 = torch.zeros(self.E, dtype=torch.float64)
            for i in range(0, len(x), 1000):
                h = self.down_to(x[i:i + 1000], k)[0].double()
                s1 += h.sum(0)
                s2 += (h * h).sum(0)
            m = s1 / len(x)
            self.bns[k].mean.copy_(m.float())
            self.bns[k].var.copy_((s2 / len(x) - m * m).clamp(min=0).float())

    def sample(self, n):
        x = torch.randn(n, self.E)
        for k, layer in enumerate(self.layers):
            if self.bns is not None:
                x = self.bns[k].inverse(x)
            y = torch.zeros_like(x)
            for i in range(self.E):  # E passes
                s, u = layer(y)
                y[:, i] = s[:, i] + torch.exp(u[:, i]) * x[:, i]
            x = y.flip(-1) if k < len(self.layers) - 1 else y
        return x
