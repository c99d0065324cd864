#!/usr/bin/env python3
"""PyTorch side of bench/train-throughput.ts: the same SAC-size update (actor 17-256-256-12 tanh-Gaussian,
twin critics 23-256-256-1 with Polyak targets, batch 256, three Adams), CleanRL-style; and the same MeanFlowQL
update as src/algos/meanflowql.ts at that size (ReLU + LayerNorm MLPs, best-of-5 backup under the target critic,
the MFI target through forward-mode AD, two clipped Adams).

Standalone:  OPENBLAS_NUM_THREADS=1 python3 bench/train_throughput_torch.py --updates 200 [--algo mfql]
Served:      --serve reads "run <warmup> <updates> [sac|mfql]" lines on stdin and answers one JSON line each
             (train-throughput.ts keeps it alive and takes turns with it).
Needs Debian python3-torch (apt-get install -y python3-torch); not needed by the tests.
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
import torch.nn.functional as F

OBS, ACT, HIDDEN, BATCH = 17, 12, 256, 256
GAMMA, TAU, LR, LOG_STD_MIN, LOG_STD_MAX = 0.99, 0.005, 3e-4, -5.0, 2.0


def mlp(n_in, n_out):
    return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, n_out))


class Actor(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = mlp(OBS, 2 * ACT)

    def sample(self, obs):
        mean, raw = self.net(obs).chunk(2, dim=1)
        log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(raw) + 1)
        eps = torch.randn_like(mean)
        action = torch.tanh(mean + log_std.exp() * eps)
        gaussian = -0.5 * eps.pow(2) - log_std - 0.5 * math.log(2 * math.pi)
        log_prob = (gaussian - torch.log(1 - action.pow(2) + 1e-6)).sum(1, keepdim=True)
        return action, log_prob


class Sac:
    def __init__(self):
        self.actor = Actor()
        self.q1, self.q2 = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
        self.q1t, self.q2t = mlp(OBS + ACT, 1), mlp(OBS + ACT, 1)
        self.q1t.load_state_dict(self.q1.state_dict())
        self.q2t.load_state_dict(self.q2.state_dict())
        self.log_alpha = torch.zeros(1, requires_grad=True)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=LR)
        self.critic_opt = torch.optim.Adam(list(self.q1.parameters()) + list(self.q2.parameters()), lr=LR)
        self.alpha_opt = torch.optim.Adam([self.log_alpha], lr=LR)
        self.target_entropy = -ACT
        self.batches = [(torch.randn(BATCH, OBS), torch.rand(BATCH, ACT) * 2 - 1, torch.randn(BATCH, 1),
                         torch.randn(BATCH, OBS), torch.ones(BATCH, 1)) for _ in range(4)]
        self.k = 0

    def update(self):
        obs, act, rew, nxt, not_done = self.batches[self.k % len(self.batches)]
        self.k += 1
        alpha = self.log_alpha.exp().item()
        with torch.no_grad():
            a2, logp2 = self.actor.sample(nxt)
            x2 = torch.cat([nxt, a2], 1)
            target = rew + GAMMA * not_done * (torch.min(self.q1t(x2), self.q2t(x2)) - alpha * logp2)
        x = torch.cat([obs, act], 1)
        critic_loss = F.mse_loss(self.q1(x), target) + F.mse_loss(self.q2(x), target)
        self.critic_opt.zero_grad()
        critic_loss.backward()
        self.critic_opt.step()

        a, logp = self.actor.sample(obs)
        xa = torch.cat([obs, a], 1)
        actor_loss = (alpha * logp - torch.min(self.q1(xa), self.q2(xa))).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        self.actor_opt.step()

        alpha_loss = -(self.log_alpha * (logp.detach() + self.target_entropy)).mean()
        self.alpha_opt.zero_grad()
        alpha_loss.backward()
        self.alpha_opt.step()

        with torch.no_grad():
            for net, tgt in ((self.q1, self.q1t), (self.q2, self.q2t)):
                for p, tp in zip(net.parameters(), tgt.parameters()):
                    tp.mul_(1 - TAU).add_(p, alpha=TAU)


# --- MeanFlowQL (src/algos/meanflowql.ts at the SAC bench's widths) ---------------------------------------------
TIME_FREQS = torch.tensor([math.exp(-math.log(100.0) * k / 8) for k in range(8)])  # φ(t): 8 cos + 8 sin
CANDIDATES, ALPHA, TARGET_CLIP, ADAPTIVE_GAMMA, ADAPTIVE_C = 5, 10.0, 5.0, 0.8, 1e-4


def ln_mlp(n_in, n_out, zero_out=False):
    """Linear -> LayerNorm -> ReLU blocks, as onestep's layers with layerNorm (norm before the activation)."""
    out = nn.Linear(HIDDEN, n_out)
    if zero_out:
        nn.init.zeros_(out.weight)
        nn.init.zeros_(out.bias)
    return nn.Sequential(nn.Linear(n_in, HIDDEN), nn.LayerNorm(HIDDEN), nn.ReLU(),
                         nn.Linear(HIDDEN, HIDDEN), nn.LayerNorm(HIDDEN), nn.ReLU(), out)


def phi(t):
    angles = t * TIME_FREQS
    return torch.cat([torch.cos(angles), torch.sin(angles)], 1)


class MeanFlowQl:
    def __init__(self):
        self.actor = ln_mlp(OBS + ACT + 16, ACT, zero_out=True)
        self.q1, self.q2 = ln_mlp(OBS + ACT, 1), ln_mlp(OBS + ACT, 1)
        self.q1t, self.q2t = ln_mlp(OBS + ACT, 1), ln_mlp(OBS + ACT, 1)
        self.q1t.load_state_dict(self.q1.state_dict())
        self.q2t.load_state_dict(self.q2.state_dict())
        self.critic_params = list(self.q1.parameters()) + list(self.q2.parameters())
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-4, eps=1e-8)
        self.critic_opt = torch.optim.Adam(self.critic_params, lr=3e-4, eps=1e-8)
        self.batches = [(torch.randn(BATCH, OBS), torch.rand(BATCH, ACT) * 2 - 1, torch.randn(BATCH, 1),
                         torch.randn(BATCH, OBS), torch.ones(BATCH, 1)) for _ in range(4)]
        self.k = 0

    def g(self, obs, a_t, t):
        return self.actor(torch.cat([obs, a_t, phi(t)], 1))

    def update(self):
        obs, act, rew, nxt, mask = self.batches[self.k % len(self.batches)]
        self.k += 1
        with torch.no_grad():
            # 1. Backup: best of N candidates under the mean target critic.
            states = nxt.repeat_interleave(CANDIDATES, 0)
            cand = self.g(states, torch.randn(BATCH * CANDIDATES, ACT), torch.ones(BATCH * CANDIDATES, 1)).clamp(-1, 1)
            xs = torch.cat([states, cand], 1)
            q = (0.5 * (self.q1t(xs) + self.q2t(xs))).view(BATCH, CANDIDATES)
            # The chosen candidate's value is the mean of the heads the selection already computed.
            target = rew + GAMMA * mask * q.max(1, keepdim=True).values
            # 2. MFI target: g_tgt = clip(a_t + (t - 1) v - t dg/dt) with dg/dt by forward-mode AD.
            t = torch.rand(BATCH, 1)
            e = torch.randn(BATCH, ACT)
            a_t = (1 - t) * act + t * e
            v = e - act
            with fwAD.dual_level():
                g_dual = self.g(obs, fwAD.make_dual(a_t, v), fwAD.make_dual(t, torch.ones_like(t)))
                g0, dgdt = fwAD.unpack_dual(g_dual)
            g_tgt = (a_t + (t - 1) * v - t * dgdt).clamp(-TARGET_CLIP, TARGET_CLIP)
            w = ((g0 - g_tgt).pow(2).mean(1, keepdim=True) + ADAPTIVE_C).pow(-(1 - ADAPTIVE_GAMMA)).clamp(1e-6, 1e6)
        # 3. Critic gradient.
        x = torch.cat([obs, act], 1)
        critic_loss = F.mse_loss(self.q1(x), target) + F.mse_loss(self.q2(x), target)
        critic_grads = torch.autograd.grad(critic_loss, self.critic_params)
        # 4. Actor gradient at the same critic: -Q + bound + alpha * MFI (no gradient into the critic).
        a_hat = self.g(obs, torch.randn(BATCH, ACT), torch.ones(BATCH, 1))
        xa = torch.cat([obs, a_hat.clamp(-1, 1)], 1)
        q_loss = -(0.5 * (self.q1(xa) + self.q2(xa))).mean()
        bound = F.relu(a_hat - 1).mean() + F.relu(-1 - a_hat).mean()
        mfi = (w * (self.g(obs, a_t, t) - g_tgt).pow(2).mean(1, keepdim=True)).mean()
        actor_params = list(self.actor.parameters())
        actor_grads = torch.autograd.grad(q_loss + bound + ALPHA * mfi, actor_params)
        # 5. One clipped Adam step per group.
        for params, grads, opt in ((self.critic_params, critic_grads, self.critic_opt), (actor_params, actor_grads, self.actor_opt)):
            for p, gr in zip(params, grads):
                p.grad = gr
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        # 6. Polyak.
        with torch.no_grad():
            for net, tgt in ((self.q1, self.q1t), (self.q2, self.q2t)):
                for p, tp in zip(net.parameters(), tgt.parameters()):
                    tp.mul_(1 - TAU).add_(p, alpha=TAU)


def blas_name():
    """The BLAS library this process actually loaded (Debian's torch calls libblas.so.3, an alternative)."""
    try:
        with open('/proc/self/maps') as maps:
            libs = sorted({line.split()[-1] for line in maps if 'blas' in line.split()[-1]})
        return ', '.join(libs) or 'unknown'
    except OSError:
        return 'unknown'


def run(sac, warmup, updates):
    for _ in range(warmup):
        sac.update()
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(updates):
        sac.update()
    return {'updates_per_s': updates / (time.perf_counter() - t0), 'updates_per_cpu_s': updates / (time.process_time() - c0)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--threads', type=int, default=1, help='torch intra-op threads (set OPENBLAS_NUM_THREADS too)')
    ap.add_argument('--updates', type=int, default=200)
    ap.add_argument('--warmup', type=int, default=20)
    ap.add_argument('--algo', choices=['sac', 'mfql'], default='sac', help='which update (standalone runs)')
    ap.add_argument('--serve', action='store_true', help='answer "run <warmup> <updates> [sac|mfql]" lines on stdin')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    learners = {'sac': Sac, 'mfql': MeanFlowQl}
    made = {}
    info = {'torch': torch.__version__, 'blas': blas_name(), 'threads': a.threads}
    if not a.serve:
        print(json.dumps({**info, 'algo': a.algo, **run(learners[a.algo](), a.warmup, a.updates)}))
        return
    for line in sys.stdin:
        parts = line.split()
        if len(parts) not in (3, 4) or parts[0] != 'run' or (len(parts) == 4 and parts[3] not in learners):
            print(json.dumps({'error': f'expected "run <warmup> <updates> [sac|mfql]", got {line.strip()!r}'}), flush=True)
            continue
        algo = parts[3] if len(parts) == 4 else 'sac'
        learner = made.setdefault(algo, learners[algo]())
        print(json.dumps({**info, 'algo': algo, **run(learner, int(parts[1]), int(parts[2]))}), flush=True)


if __name__ == '__main__':
    main()
