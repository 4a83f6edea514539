"""The wake benchmark's report: the text tables, the goals side by side, DET curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot_det(model: str, curves: dict[str, dict[str, list[tuple[float, float, float]]]],
             points: dict[str, tuple[float, float]], hours: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    floor = 0.5 / hours  # zero false wakes are drawn at half of one wake in the hours used
    fig, ax = plt.subplots(figsize=(7.5, 5.5))
    colours = {"clean": "tab:blue", "snr20": "tab:green", "snr10": "tab:orange", "snr5": "tab:red"}
    for label, per_cond in curves.items():
        style = "-" if "second" in label else ":"
        for cond, pts in per_cond.items():
            xs = [max(p[1], floor) for p in pts]
            ys = [max(p[2], 1e-3) for p in pts]
            ax.plot(xs, ys, style, color=colours.get(cond), marker="." if "second" in label else None,
                    label=f"{cond} ({label})")
    for i, (label, (x, y)) in enumerate(points.items()):
        ax.plot([max(x, floor)], [max(y, 1e-3)], "k*", markersize=12)
        ax.annotate(label, (max(x, floor), max(y, 1e-3)), textcoords="offset points",
                    xytext=(6, 6 - 14 * i), fontsize=8)  # one under the other when they coincide
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"false wakes per hour ({hours:.2f} h of non-wake audio; 0 drawn at {floor:.2f})")
    ax.set_ylabel("miss rate")
    ax.set_title(f"{model}: dotted = first stage alone (threshold swept);\n"
                 "solid = with the second stage (candidate threshold swept)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def print_engine(engine: str, r: dict[str, Any]) -> None:
    for name, m in r["models"].items():
        b, a = m["before"], m["after"]
        cand = m.get("candidate_threshold") if m["second_stage"] else m["threshold"]
        print(f"\n== {engine} {name}: threshold {m['threshold']}, candidates from {cand}, "
              f"patience {m['patience']}, refractory {m['refractory_s']} s, "
              f"second stage {'on' if m['second_stage'] else 'off'}")
        if b["miss"]:
            print(f"{'misses':18} {'clips':>6} {'first stage':>12} {'+2nd stage':>12}")
            for cond, mb in b["miss"].items():
                ma = a["miss"][cond]
                print(f"  {cond:16} {mb['clips']:6d} {pct(mb['rate']):>12} {pct(ma['rate']):>12}")
            groups = sorted({k.split("/")[0] for k in b["miss_by_source"]})
            if len(groups) > 1:
                for g in groups:
                    cells = "  ".join(
                        f"{cond} {pct(b['miss_by_source'][f'{g}/{cond}']['rate']).strip()}"
                        f"->{pct(a['miss_by_source'][f'{g}/{cond}']['rate']).strip()}"
                        for cond in b["miss"] if f"{g}/{cond}" in b["miss_by_source"])
                    print(f"    {g:24} {cells}")
        fb, fa = b["false_wakes"], a["false_wakes"]
        print(f"{'false wakes':18} {'hours':>6} {'first stage':>12} {'+2nd stage':>12}"
              "   (per hour; 95% upper)")
        print(f"  {'non-wake set':16} {fb['hours']:6.2f} {fb['per_hour']:8.2f} ({fb['wakes']:d}) "
              f"{fa['per_hour']:8.2f} ({fa['wakes']:d})   <= {fb['per_hour_upper95']:.2f} / "
              f"<= {fa['per_hour_upper95']:.2f}")
        wb, wa = fb["with_near_misses"], fa["with_near_misses"]
        print(f"  {'+ near misses':16} {wb['hours']:6.2f} {wb['per_hour']:8.2f} ({wb['wakes']:d}) "
              f"{wa['per_hour']:8.2f} ({wa['wakes']:d})")
        for g, gb in sorted(b["groups"].items()):
            ga = a["groups"][g]
            print(f"    {g:24} {gb['hours']:6.2f} h  wakes {int(gb['wakes']):4d} -> {int(ga['wakes']):4d}")
        for g, nb in sorted(b["near_miss"].items()):
            na = a["near_miss"][g]
            print(f"  near miss {g:24} {int(nb['woken']):3d}/{int(nb['clips'])} ({pct(nb['rate'])}) -> "
                  f"{int(na['woken']):3d}/{int(na['clips'])} ({pct(na['rate'])})")
        if m.get("det_png"):
            print(f"  DET curve: {m['det_png']}")
    print(f"\nCPU seconds per hour of audio ({engine}, features + models):")
    for k, v in r["cpu_s_per_hour"].items():
        print(f"  {k:28} {v:7.1f} s/h")


def print_report(r: dict[str, Any]) -> None:
    for engine, result in r["engines"].items():
        print_engine(engine, result)
    if "second_stage_call" in r:
        c = r["second_stage_call"]
        print(f"second stage (Whisper tiny.en per candidate): {c['cpu_s_mean']:.2f} s CPU, "
              f"{c['wall_s_mean']:.2f} s wall (p95 {c['wall_s_p95']:.2f} s) per call, "
              f"{c['calls_measured']} calls measured")
        for engine, name, m in ((e, n, m) for e, res in r["engines"].items()
                                for n, m in res["models"].items()):
            if "second_stage_cpu_s_per_hour_of_negatives" in m:
                print(f"  {engine} {name}: {m['second_stage_checks_per_hour_of_negatives']:.1f} checks and "
                      f"{m['second_stage_cpu_s_per_hour_of_negatives']:.1f} s CPU per hour of non-wake "
                      "audio (with the near misses)")
    print_goals(r)
    load = " ".join(f"{x:.2f}" for x in r["loadavg"])
    print(f"\nnegatives: {r['negatives_hours']:.2f} h; elapsed {r['elapsed_s']} s; load average "
          f"at start {load}")


GOALS = (("alexa", "group", "alexa_real/clean", 0.03, "real \"Alexa\" woken >= 97% (readable)"),
         ("alexa", "miss", "clean", 0.03, "... all 329 (14 damaged, ffmpeg-decoded)"),
         ("hey_jarvis", "miss", "clean", 0.03, "hey_jarvis misses <= 3% (synthesized)"),
         ("hey_jarvis", "near", "near_miss_jarvis", 1 / 25, "near-miss \"Jarvis\" <= 1 in 25"),
         ("hey_jarvis", "fa", "", 0.2, "hey_jarvis false wakes <= 0.2/h"),
         ("alexa", "fa", "", 0.2, "alexa false wakes <= 0.2/h"))


def goal_value(m: dict[str, Any], kind: str, key: str) -> tuple[float, str]:
    s = m["after"]
    if kind in ("miss", "group"):
        x = s["miss"][key] if kind == "miss" else s["miss_by_source"][key]
        return x["rate"], f"{pct(x['rate']).strip()} ({int(x['missed'])}/{int(x['clips'])})"
    if kind == "near":
        x = s["near_miss"][key]
        return x["rate"], f"{int(x['woken'])}/{int(x['clips'])}"
    x = s["false_wakes"]
    return x["per_hour"], (f"{x['per_hour']:.2f}/h ({x['wakes']} in {x['hours']:.2f} h; "
                           f"<= {x['per_hour_upper95']:.2f})")


def print_goals(r: dict[str, Any]) -> None:
    """The issue's goals side by side, each engine at its default operating point."""
    engines = list(r["engines"])
    print(f"\n{'goal (default operating point)':42}" + "".join(f"{e:>44}" for e in engines))
    for model, kind, key, limit, label in GOALS:
        cells = []
        for e in engines:
            m = r["engines"][e]["models"].get(model)
            if m is None:
                cells.append(f"{'-':>44}")
                continue
            value, text = goal_value(m, kind, key)
            cells.append(f"{text + (' ok' if value <= limit else ' MISS'):>44}")
        print(f"{label:42}" + "".join(cells))
