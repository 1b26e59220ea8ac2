"""Programs that trigger each diagnostic of the catalogue (spec §4.8), with clean counterparts.

Each case is (code, source, clean): `‸` in `source` marks where the diagnostic must start;
`clean` is a minimal edit of the same program that produces fewer diagnostics of the code. Shared
declarations come from `PRE` so each case stays one or two lines of interest.
"""

PRE = """object T : FinSet 4
object B : FinSet 2
object R : Real 2
object S : Real 3
object U : Real 1 {low=0.0, high=1.0}
morphism f : R -> R ~ Normal
morphism g : R -> S ~ Normal
morphism k : R -> T ~ Categorical
morphism det : R -> R
morphism cell : R * S -> S ~ Normal
morphism emb : T -> R [role=embed]
morphism split2 : R -> R * R ~ Normal
"""


def P(body: str, export: str = "export f\n") -> str:
    return PRE + body + ("\n" if not body.endswith("\n") else "") + export


def prog(steps: str, sig: str = "R -> R", params: str = "(x)", ret: str = "return y") -> str:
    body = f"program p{params} : {sig}\n" + "".join(f"    {s}\n" for s in steps.split(";") if s.strip()) + f"    {ret}\n"
    return P(body, "export p\n")


CASES = [
    # ---------------------------------------------------------------- syntax (parser) ----
    ("QVR001", "object X : Real 2 ‸$\nexport f\n", "object X : Real 2\n"),
    ("QVR003", "object X : Real 2\n‸#{ never closed\n", "object X : Real 2\n#{ closed }#\n"),
    ("QVR004", "object ‸scan : Real 2\n", "object scanner : Real 2\n"),
    ("QVR005", P("program ‸q : R -> R\n    sample y <- f\n", ""), P("program q : R -> R\n    sample y <- f\n    return y\n", "")),
    # ------------------------------------------------------------------ names and order ----
    ("QVR006", P("define m = f\n    ‸where\ndefine n = f\n"), P("define m = f2\n    where\n        define f2 = f\n")),
    ("QVR010", P("morphism h : R -> ‸Rr\n"), P("morphism h : R -> R\n")),
    ("QVR011", P("define d = ‸ff\n"), P("define d = f\n")),
    ("QVR012", prog("sample y <- f(‸z);sample z <- f(x)"), prog("sample z <- f(x);sample y <- f(z)")),
    ("QVR013", prog("sample y <- ‸Nromal(0.0, 1.0)", sig="R -> Real 1"), prog("sample y <- Normal(0.0, 1.0)", sig="R -> Real 1")),
    ("QVR014", P("define d = ‸later\nmorphism later : R -> R ~ Normal\n", "export d\n"), P("morphism later : R -> R ~ Normal\ndefine d = later\n", "export d\n")),
    ("QVR015", P("object ‸R : Real 3\n"), P("object R2 : Real 3\n")),
    ("QVR016", prog("sample y <- f(x);sample ‸y <- f(y)"), prog("sample z <- f(x);sample y <- f(z)")),
    ("QVR017", P("morphism h : ‸f -> R\n"), P("morphism h : R -> R\n")),
    ("QVR018", P("continuous hd[2] : R -> R ~ Normal\ndefine d = ‸hd\n", "export d\n"), P("continuous hd[2] : R -> R ~ Normal\ndefine d = fan(hd)\n", "export d\n")),
    ("QVR019", P("morphism ‸Normal : R -> R\n"), P("morphism normal_map : R -> R\n")),
    # ------------------------------------------------------------------------- types ----
    ("QVR020", P("object X : Real ‸0\n"), P("object X : Real 1\n")),
    ("QVR021", P("object X : ‸Reel 3\n"), P("object X : Real 3\n")),
    ("QVR022", P("object X : Real 2 {low=1.0, ‸high=0.0}\n"), P("object X : Real 2 {low=0.0, high=1.0}\n")),
    ("QVR023", P("object X : FinSet 2 + ‸Real 2\n"), P("object X : FinSet 2 + FinSet 3\n")),
    ("QVR024", P("morphism e : ‸R -> R [role=embed]\n"), P("morphism e : T -> R [role=embed]\n")),
    ("QVR025", P("morphism e : T -> ‸T [role=embed]\n"), P("morphism e : T -> R [role=embed]\n")),
    # ----------------------------------------------------------------- declarations ----
    ("QVR026", P("morphism h : R -> R [role=‸kernal] ~ Normal\n"), P("morphism h : R -> R [role=kernel] ~ Normal\n")),
    ("QVR027", P("morphism ‸h : R -> R [role=kernel]\n"), P("morphism h : R -> R [role=kernel] ~ Normal\n")),
    ("QVR028", P("morphism h : R -> R [‸colour=1] ~ Normal\n"), P("morphism h : R -> R [hidden_dim=8] ~ Normal\n")),
    ("QVR029", P("morphism h : R -> R [scale=‸-0.1] ~ Normal\n"), P("morphism h : R -> R [scale=0.1] ~ Normal\n")),
    ("QVR030", P("morphism h : R -> R [scale=0.1, ‸scale=0.2] ~ Normal\n"), P("morphism h : R -> R [scale=0.2] ~ Normal\n")),
    ("QVR031", P("morphism h : R -> R ~ ‸Normall\n"), P("morphism h : R -> R ~ Normal\n")),
    ("QVR032", P("morphism h : R -> T ~ ‸Normal\n"), P("morphism h : R -> T ~ Categorical\n")),
    ("QVR033", P("morphism h : R -> R [‸scale=0.1] ~ Exponential\n"), P("morphism h : R -> R ~ Exponential\n")),
    ("QVR034", P("morphism h : R -> R ~ Normal(0.0, ‸abs(1.0))\n"), P("morphism h : R -> R ~ Normal(0.0, 1.0)\n")),
    ("QVR035", P("morphism dz : ‸R -> FinSet 3 [role=discretize]\n"), P("morphism dz : U -> FinSet 3 [role=discretize]\n")),
    ("QVR036", P("morphism ob : R -> R [role=observed] ~ ‸g\n"), P("morphism ob : R -> R [role=observed] ~ f\n")),
    ("QVR037", P("quantale ‸fuzzyish\n"), P("quantale godel\n")),
    ("QVR038", P("stochastic st[‸0] : T -> T\n"), P("stochastic st[2] : T -> T\n")),
    ("QVR039", P("morphism h : R -> ‸T [role=deterministic]\n"), P("morphism h : R -> S [role=deterministic]\n")),
    # ------------------------------------------------------------------ expressions ----
    ("QVR040", P("define d = g ‸>> f\n", "export d\n"), P("define d = f >> g\n", "export d\n")),
    ("QVR041", P("define d = ‸scan(cell) >> scan(cell)\n", "export d\n"), P("define d = f >> scan(cell)\n", "export d\n")),
    ("QVR042", P("define d = scan(‸f)\n", "export d\n"), P("define d = scan(cell)\n", "export d\n")),
    ("QVR043", P("define d = scan(cell, ‸init=ones)\n", "export d\n"), P("define d = scan(cell, init=learned)\n", "export d\n")),
    ("QVR044", P("define d = fan(f, ‸emb)\n", "export d\n"), P("define d = fan(f, g)\n", "export d\n")),
    ("QVR045", P("define d = fan(scan(cell), ‸g)\n", "export d\n"), P("define d = fan(scan(cell), scan(cell))\n", "export d\n")),
    ("QVR046", P("define d = scan(cell) ‸@ scan(cell)\n", "export d\n"), P("define d = fan(scan(cell), scan(cell))\n", "export d\n")),
    ("QVR047", P("define d = repeat(‸g)\n", "export d\n"), P("define d = repeat(f)\n", "export d\n")),
    ("QVR048", P("stochastic pair : T -> T * B\ndefine d = pair.marginalize(‸R)\n", "export d\n"), P("stochastic pair : T -> T * B\ndefine d = pair.marginalize(B)\n", "export d\n")),
    ("QVR049", P("quantale godel\nlatent la : T -> T\nquantale boolean\nlatent lb : T -> T\ndefine d = la ‸>> lb\n", "export d\n"), P("quantale godel\nlatent la : T -> T\nlatent lb : T -> T\ndefine d = la >> lb\n", "export d\n")),
    ("QVR050", P("latent la : T -> T\nprogram q(t) : T -> T\n    sample y <- ‸la(t)\n    return y\n", "export q\n"), P("quantale markov\nlatent la : T -> T\nprogram q(t) : T -> T\n    sample y <- la(t)\n    return y\n", "export q\n")),
    ("QVR052", P("category C\nrule ‸evaluation(X) : X |- X\n"), P("category C\nrule lift(X) : X |- X\n")),
    ("QVR053", P("category C\ndefine gr = parser(rules=[evaluation], terminal=T, ‸foo=1)\n", "export gr\n"), P("category C\ndefine gr = parser(rules=[evaluation], terminal=T)\n", "export gr\n")),
    ("QVR054", P("", "export f\nexport g\n‸export f\n"), P("", "export f\nexport g\n")),
    ("QVR055", "‸object X : Real 2\n", "object X : Real 2\nmorphism m : X -> X\nexport m\n"),
    # --------------------------------------------------------------------- programs ----
    ("QVR060", prog("sample y <- f(a, b)", params="‸(a, b, c)", sig="Real 1 * Real 1 -> R"), prog("sample y <- f(a, b)", params="(a, b)", sig="Real 1 * Real 1 -> R")),
    ("QVR061", prog("sample y <- g(‸x, x)", ret="return y", sig="R -> S"), prog("sample y <- g(x)", sig="R -> S")),
    ("QVR062", prog("sample y <- f(‸loc=x)"), prog("sample y <- f(x)")),
    ("QVR062", prog("let y = exp(‸rate=x)"), prog("let y = exp(x)")),  # builtins too
    ("QVR063", prog("sample y <- ‸Normal(loc=x)"), prog("sample y <- Normal(loc=x, scale=1.0)")),
    ("QVR064", prog("let a3 = [1.0, 2.0, 3.0];sample y <- Normal(x, ‸a3)"), prog("let a3 = [1.0, 2.0];sample y <- Normal(x, a3)")),
    ("QVR065", prog("sample y <- ‸Normal"), prog("sample y <- Normal(x, 1.0)")),
    ("QVR066", prog("sample y <- g(x)", sig="R -> R", ret="return ‸y"), prog("sample y <- f(x)", ret="return y")),
    ("QVR067", prog("sample y <- Normal(0.0, 1.0)", sig="R -> FinSet 1", ret="return ‸y"), prog("sample y <- Normal(0.0, 1.0)", sig="R -> Real 1", ret="return y")),
    ("QVR068", prog("sample ‸(a, b) <- f(x);let y = a + b"), prog("sample (a, b) <- split2(x);let y = a + b")),
    ("QVR069", prog("let y = x ‸+ [1.0, 2.0, 3.0]"), prog("let y = x + [1.0, 2.0]")),
    ("QVR070", prog("let y = ‸f(x)"), prog("let y = det(x)")),
    ("QVR071", prog("observe y <- ‸det(x)"), prog("observe y <- f(x)")),
    ("QVR072", prog("observe ‸(a, b) <- f(x);let y = a + b"), prog("observe a <- f(x);let y = a")),
    ("QVR073", prog("sample y : ‸S <- f(x)"), prog("sample y : R <- f(x)")),
    ("QVR074", prog("sample y <- f(x)", ret="return (a: y, ‸a: y)", sig="R -> R * R"), prog("sample y <- f(x)", ret="return (a: y, b: y)", sig="R -> R * R")),
    ("QVR075", prog("sample t <- k(x);let y = x + ‸t"), prog("sample t <- k(x);let y = x + emb(t)")),
    # --------------------------------------------------------------------- unused ----
    ("QVR080", P("morphism ‸spare : R -> R ~ Normal\n"), P("morphism _spare : R -> R ~ Normal\n")),
    ("QVR081", prog("let ‸z = x;sample y <- f(x)"), prog("let z = x;sample y <- f(z)")),
    ("QVR082", prog("sample ‸z <- f(x);sample y <- f(x)"), prog("sample z <- f(x);sample y <- f(z)")),
    ("QVR083", prog("sample y <- f", params="(‸x)"), prog("sample y <- f(x)", params="(x)")),
    # ---------------------------------------------------------------- deprecations ----
    ("QVR090", "‸object X : 5\nmorphism m : X -> X ~ Categorical\nexport m\n", "object X : FinSet 5\nmorphism m : X -> X ~ Categorical\nexport m\n"),
    ("QVR091", "‸type X = Real 2\nmorphism m : X -> X\nexport m\n", "object X : Real 2\nmorphism m : X -> X\nexport m\n"),
    ("QVR092", "object X : ‸Euclidean 2\nmorphism m : X -> X\nexport m\n", "object X : Real 2\nmorphism m : X -> X\nexport m\n"),
    ("QVR093", P("‸embed e2 : T -> R\ndefine d = e2\n", "export d\n"), P("morphism e2 : T -> R [role=embed]\ndefine d = e2\n", "export d\n")),
    ("QVR094", P("‸continuous c2 : R -> R ~ Normal [scale=0.1]\n", "export c2\n"), P("morphism c2 : R -> R [scale=0.1] ~ Normal\n", "export c2\n")),
    ("QVR095", P("‸stochastic s2 : T -> T\n", "export s2\n"), P("morphism s2 : T -> T ~ Categorical\n", "export s2\n")),
    ("QVR096", P("quantale markov\n‸latent l2 : T -> T\n", "export l2\n"), P("quantale markov\nmorphism l2 : T -> T [role=latent]\n", "export l2\n")),
    ("QVR097", P("‸observed o2 : R -> R = f\n", "export o2\n"), P("morphism o2 : R -> R [role=observed] ~ f\n", "export o2\n")),
    ("QVR098", P("‸discretize d2 : U -> 3\n", "export d2\n"), P("morphism d2 : U -> FinSet 3 [role=discretize]\n", "export d2\n")),
    ("QVR099", P("‸let d = f\n", "export d\n"), P("define d = f\n", "export d\n")),
    ("QVR100", P("", "‸output f\n"), P("", "export f\n")),
    ("QVR101", prog("‸draw y ~ f(x)"), prog("sample y <- f(x)")),
    ("QVR102", prog("‸y <- f(x)"), prog("sample y <- f(x)")),
    ("QVR103", prog("‸observe y ~ f(x)"), prog("observe y <- f(x)")),
    ("QVR104", prog("sample y <- Normal(‸x, 1.0)"), prog("sample y <- Normal(loc=x, scale=1.0)")),
    ("QVR105", prog("sample ‸[a, b] <- split2(x);let y = a + b"), prog("sample (a, b) <- split2(x);let y = a + b")),
    ("QVR106", "object X : ‸Real 1 [low=0.0]\nmorphism m : X -> X\nexport m\n", "object X : Real 1 {low=0.0}\nmorphism m : X -> X\nexport m\n"),
    ("QVR107", P("define d = f ‸>=> f\n", "export d\n"), P("define d = f >> f\n", "export d\n")),
    ("QVR108", P("category C\nrule lift(X) : X ‸=> X\n"), P("category C\nrule lift(X) : X |- X\n")),
    ("QVR109", P("morphism h : R -> R ‸~ Normal [scale=0.1]\n", "export h\n"), P("morphism h : R -> R [scale=0.1] ~ Normal\n", "export h\n")),
]
