"""`cordon policy check FILE | show NAME|FILE [--lang zh|en] | list` (no Django)."""
from __future__ import annotations

import argparse
import sys

from cordon.tabular import FileError

from .pack import Pack, PackInvalid, list_packs, load_pack, pack_path, validate

L = {
    "en": {
        "effective": "effective", "designation": "Designation", "by": "largest node designated without a flag",
        "default": "default", "levels": "Levels", "measures": "measures", "leaves": "leaves",
        "clean": "{n} clean days", "round": "a negative full round on day {n}", "entered": "when entered from {lv}",
        "base": "base level (not designated)", "area_tests": "in-area tests on days", "antigen": "antigen on days",
        "counting": "What counts against an area's clock", "counts": "counts", "not": "does not count",
        "home": "infections among people already isolating at home", "observation": "Observation after a lift",
        "days": "{n} days", "persons": "Person categories", "noq": "no quarantine",
        "window": "{c} tests within {d} days, at least {h} h apart", "tests": "tests", "total": "free on day {n}",
        "tasks": "Response tasks", "within": "within {h} h", "keypop": "Key-population test cadence",
        "every": "{t} x every {d} days", "screening": "Mass screening", "pool": "pooled {p}-in-1",
        "alt": "alternative {p}-in-1", "round_h": "a round within {h} h", "essential": "Essential places",
        "guardrails": "Guardrails", "out": "out of scope", "unverified": "unverified", "source": "source",
        "centralized": "centralized", "home_quarantine": "home quarantine", "home_monitoring": "home health monitoring",
        "period_day": "day", "home_day": "period day", "playbooks": "Playbooks", "for": "for",
    },
    "zh": {
        "effective": "施行", "designation": "划定单元", "by": "不需说明理由的最大划定单元", "default": "默认",
        "levels": "风险等级", "measures": "措施", "leaves": "调整条件", "clean": "连续{n}天无新增",
        "round": "第{n}天全员核酸阴性", "entered": "由{lv}降级而来时", "base": "基础等级（不划定）",
        "area_tests": "区域内检测日", "antigen": "抗原检测日", "counting": "计入风险区时钟的感染", "counts": "计入",
        "not": "不计入", "home": "已居家隔离人员中的感染", "observation": "解除后观察期", "days": "{n}天",
        "persons": "人员类别", "noq": "不隔离", "window": "{d}天内{c}次核酸，间隔至少{h}小时", "tests": "检测",
        "total": "第{n}天解除", "tasks": "处置任务", "within": "{h}小时内", "keypop": "重点人群检测频次",
        "every": "每{d}天{t}次", "screening": "区域核酸筛查", "pool": "{p}合1混采", "alt": "备选{p}合1",
        "round_h": "{h}小时内完成一轮", "essential": "保障生活的场所", "guardrails": "九不准", "out": "暂不适用",
        "unverified": "未核实", "source": "来源", "centralized": "集中隔离", "home_quarantine": "居家隔离",
        "home_monitoring": "居家健康监测", "period_day": "第", "home_day": "期内第", "playbooks": "工作指引", "for": "适用",
    },
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="policy_command", metavar="ACTION")
    p = sub.add_parser("check", help="validate a policy pack file")
    p.add_argument("file", help="path to a pack .yaml file (or a built-in pack name)")
    p = sub.add_parser("show", help="print a policy pack readably")
    p.add_argument("pack", help="built-in pack name or path to a pack file")
    p.add_argument("--lang", choices=("zh", "en"), default="zh")
    p.add_argument("--sources", action="store_true", help="print the source beside each figure")
    sub.add_parser("list", help="list the built-in packs")
    parser.set_defaults(_policy_parser=parser)


def run(args: argparse.Namespace) -> int:
    cmd = getattr(args, "policy_command", None)
    if cmd == "check":
        return _check(args.file)
    if cmd == "show":
        return _show(args.pack, args.lang, args.sources)
    if cmd == "list":
        return _list()
    args._policy_parser.print_help()
    return 2


def _check(file: str) -> int:
    try:
        path = pack_path(file)
    except FileNotFoundError as exc:
        print(f"{file}: {exc}", file=sys.stderr)
        return 1
    try:
        errors = validate(path)
    except FileError as exc:  # not text in an accepted encoding (a binary file)
        print(str(exc), file=sys.stderr)
        return 1
    if errors:
        for e in errors:
            print(f"{file}:{e.line}: {e.field or '(pack)'}: {e.reason}")
        return 1
    pack = load_pack(path)
    unverified = _count_unverified(pack)
    print(f"ok: {pack.name} ({pack.title.en}), effective {pack.effective.isoformat()}; "
          f"levels {', '.join(pack.level_order)}; {len(pack.persons)} person categories; "
          f"{len(pack.tasks)} tasks; {len(pack.guardrails)} guardrails; {len(pack.playbooks)} playbooks "
          f"({sum(len(pb.steps) for pb in pack.playbooks.values())} steps); {unverified} figures marked unverified")
    return 0


def _count_unverified(pack: Pack) -> int:
    n = int(pack.observation_unverified) + int(pack.counting.unverified) + int(pack.screening.unverified)
    for lv in pack.levels.values():
        n += sum(1 for ex in [lv.exit, *lv.exit_if_entered_from.values()] if ex and ex.unverified)
        n += int(bool(lv.area_tests and lv.area_tests.unverified))
    for c in pack.persons.values():
        n += int(c.unverified) + sum(1 for p in c.periods if p.unverified)
    n += sum(1 for t in pack.tasks.values() if t.unverified)
    n += sum(1 for k in pack.key_populations if k.unverified)
    n += sum(1 for pb in pack.playbooks.values() for s in pb.steps if s.unverified or (pb.unverified and not s.source))
    return n


def _list() -> int:
    for i, name in enumerate(list_packs()):
        try:
            p = load_pack(name)
            print(f"{name}{' (default)' if i == 0 else ''}\t{p.effective.isoformat()}\t{p.title.zh} / {p.title.en}")
        except PackInvalid as exc:
            print(f"{name}\tINVALID: {len(exc.errors)} error(s)")
    return 0


def _show(name: str, lang: str, sources: bool) -> int:
    try:
        pack = load_pack(name)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except PackInvalid as exc:
        for e in exc.errors:
            print(str(e), file=sys.stderr)
        return 1
    except FileError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    print(render(pack, lang, sources))
    return 0


def render(pack: Pack, lang: str = "zh", sources: bool = False) -> str:
    t = L[lang]
    out: list[str] = []
    w = out.append

    def mark(unverified: bool, source: str = "") -> str:
        s = f" [{t['unverified']}]" if unverified else ""
        if sources and source:
            s += f"  ({t['source']}: {pack.cite(source)})"
        return s

    def title(lv: str) -> str:
        return pack.levels[lv].title.get(lang) if lv in pack.levels else lv

    w(f"{pack.name}: {pack.title.get(lang)}")
    w(f"  {t['effective']} {pack.effective.isoformat()}")
    w("")
    w(f"{t['designation']}: {t['by']} = {pack.granularity}; {t['default']} {pack.default_kind}"
      f"  ({' > '.join(pack.node_kinds)}){mark(False, pack.granularity_source)}")
    w("")
    w(f"{t['levels']}:")
    for key, lv in pack.levels.items():
        w(f"  {key} {lv.title.get(lang)}")
        w(f"    {t['measures']}: {lv.measures.get(lang)}")
        if not lv.designated:
            w(f"    {t['base']}")
        exits = [(None, lv.exit)] + list(lv.exit_if_entered_from.items())
        for frm, ex in exits:
            if ex is None:
                continue
            cond = t["clean"].format(n=ex.clean_days)
            if ex.round_on_day:
                cond += " + " + t["round"].format(n=ex.round_on_day)
            pre = f"{t['entered'].format(lv=title(frm))}: " if frm else ""
            w(f"    {t['leaves']}: {pre}{cond} -> {ex.to} {title(ex.to)}{mark(ex.unverified, ex.source)}")
        if lv.area_tests:
            at = lv.area_tests
            s = f"    {t['area_tests']} {', '.join(map(str, at.days))}"
            if at.antigen_days:
                s += f"; {t['antigen']} {', '.join(map(str, at.antigen_days))}"
            w(s + mark(at.unverified, at.source))
    w("")
    c = pack.counting
    yes = [k for k in ("community", "controlled_area", "quarantine_site") if k in c.found]
    no = [k for k in ("community", "controlled_area", "quarantine_site") if k not in c.found]
    w(f"{t['counting']}: {t['counts']}: {', '.join(yes) or '-'}; {t['not']}: {', '.join(no) or '-'}; "
      f"{t['home']}: {t['counts'] if c.home_isolating_counts else t['not']}{mark(c.unverified, c.source)}")
    w(f"{t['observation']}: {t['days'].format(n=pack.observation_days)}"
      f"{mark(pack.observation_unverified, pack.observation_source)}")
    w("")
    w(f"{t['persons']}:")
    for key, cat in pack.persons.items():
        if not cat.periods:
            s = t["noq"]
            if cat.test_window:
                tw = cat.test_window
                s += "; " + t["window"].format(c=tw.count, d=tw.within_days, h=tw.min_gap_hours)
        else:
            parts = []
            for i, p in enumerate(cat.periods):
                tests = ""
                if p.tests:
                    label = t["period_day"] if i == 0 else t["home_day"]
                    tests = f" ({t['tests']} {label} {', '.join(map(str, p.tests))})"
                parts.append(f"{t['days'].format(n=p.days)} {t[p.kind]}{tests}{mark(p.unverified, p.source)}")
            s = " + ".join(parts) + "; " + t["total"].format(n=cat.total_days + 1)
        w(f"  {key} {cat.title.get(lang)}: {s}{mark(cat.unverified, cat.source)}")
        if cat.note:
            w(f"    {cat.note.get(lang)}")
    w("")
    w(f"{t['tasks']}:")
    for key, task in pack.tasks.items():
        w(f"  {key} {task.title.get(lang)}: {t['within'].format(h=task.deadline_hours)}{mark(task.unverified, task.source)}")
        for step in task.playbook:
            w(f"    - {step.get(lang)}")
    w("")
    w(f"{t['keypop']}:")
    for k in pack.key_populations:
        w(f"  {k.title.get(lang)}: {t['every'].format(t=k.times, d=k.per_days)}{mark(k.unverified, k.source)}")
    s = pack.screening
    alt = f", {t['alt'].format(p=s.alt_pool_size)}" if s.alt_pool_size else ""
    w(f"{t['screening']}: {t['pool'].format(p=s.pool_size)}{alt}; {t['round_h'].format(h=s.round_hours)}"
      f"{mark(s.unverified, s.source)}")
    if s.note:
        w(f"  {s.note.get(lang)}")
    w(f"{t['essential']}: {', '.join(pack.essential_places)}")
    w("")
    w(f"{t['guardrails']}:")
    for g in pack.guardrails.values():
        w(f"  #{g.number} {g.rule}: {g.prohibits.get(lang)}{mark(False, g.source)}")
        if not g.in_scope:
            w(f"    ({t['out']})")
        for chk in g.checks:
            w(f"    {chk.action} {chk.key}: {chk.message.get(lang)}")
    w("")
    w(f"{t['playbooks']}:")
    for pb in pack.playbooks.values():
        w(f"  {pb.key} {pb.title.get(lang)} ({t['for']}: {', '.join(pb.audience)}){mark(pb.unverified, pb.source)}")
        for i, st in enumerate(pb.steps, 1):
            w(f"    {i}. [{st.key}] {st.text.get(lang)}{mark(st.unverified, st.source) if st.source else ''}")
    return "\n".join(out)
