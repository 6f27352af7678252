"""Golden values for tests/depth.rs: mean-field criticality of tanh networks at
sigma_b^2 = 0.05, computed independently of the lab with mpmath (20 digits): Gaussian
integrals by mpmath.quad (tanh-sinh), roots by mpmath.findroot.

Run: python3 tests/golden/criticality_tanh.py  (needs mpmath; prints Rust constants)
"""
import mpmath as mp

mp.mp.dps = 20  # the chaotic point's nested 2-D integrals take about 5 minutes
CB = mp.mpf("0.05")
phi = mp.tanh
dphi = lambda x: 1 / mp.cosh(x) ** 2


def gauss(f, q):
    s = mp.sqrt(q)
    return mp.quad(lambda z: f(s * z) * mp.exp(-z * z / 2), [-mp.inf, 0, mp.inf]) / mp.sqrt(2 * mp.pi)


def gauss2(f, q, c):
    s = mp.sqrt(q)
    r = mp.sqrt(1 - c * c)
    inner = lambda z1: mp.quad(lambda z2: f(s * (c * z1 + r * z2)) * mp.exp(-z2 * z2 / 2), [-mp.inf, 0, mp.inf])
    return mp.quad(lambda z1: f(s * z1) * inner(z1) * mp.exp(-z1 * z1 / 2), [-mp.inf, 0, mp.inf]) / (2 * mp.pi)


def q_star(cw):
    return mp.findroot(lambda q: cw * gauss(lambda x: phi(x) ** 2, q) + CB - q, 0.5)


def chi_1(cw, q):
    return cw * gauss(lambda x: dphi(x) ** 2, q)


for cw in ["1.5", "2.5"]:
    cw = mp.mpf(cw)
    q = q_star(cw)
    chi = chi_1(cw, q)
    if chi <= 1:
        c = mp.mpf(1)
        chic = chi
    else:
        cmap = lambda c: (cw * gauss2(phi, q, c) + CB) / q - c
        c = mp.findroot(cmap, (mp.mpf("0.2"), mp.mpf("0.9")), solver="anderson")
        chic = cw * gauss2(dphi, q, c)
    xic = -1 / mp.log(chic)
    print(f"// C_W = {cw}: q* = {mp.nstr(q, 15)}, chi_1 = {mp.nstr(chi, 15)}, c* = {mp.nstr(c, 15)}, xi_c = {mp.nstr(xic, 15)}")
    print(f"({mp.nstr(cw, 3)}, {mp.nstr(q, 15)}, {mp.nstr(chi, 15)}, {mp.nstr(c, 15)}, {mp.nstr(xic, 15)}),")

crit = mp.findroot(lambda cw: chi_1(cw, q_star(cw)) - 1, 1.7)
print(f"// critical C_W at C_b = 0.05: {mp.nstr(crit, 15)}")

# The gradient ratio prod_(l=1)^9 C_W E[phi'(sqrt(q^l) z)^2] of tanh at C_W = 2.5, C_b = 0.05,
# L = 10, from q^1 = C_W + C_b (tests/depth.rs, gradient_ratios_follow_chi_1_through_depth).
cw = mp.mpf("2.5")
q, ratio = cw + CB, mp.mpf(1)
for _ in range(9):
    ratio *= chi_1(cw, q)
    q = cw * gauss(lambda x: phi(x) ** 2, q) + CB
print(f"// gradient ratio, tanh C_W = 2.5, L = 10: {mp.nstr(ratio, 17)}")
