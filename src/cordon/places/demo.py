"""Demo step for the city model: a resident import with good and bad rows, so the import report shows; uploaded
as the community worker would from the "Files in" page (the same importer), so the page lists it, finished,
with its report of bad rows."""
from __future__ import annotations

import csv
import datetime as dt
import tempfile
from pathlib import Path

from cordon.core import ids


def demo_rows(unit_path: str) -> list[list[str]]:
    header = ["姓名", "身份证号", "手机号", "地址", "门牌号", "独居", "定期治疗"]
    rows = [header]
    births = [dt.date(1938, 3, 2), dt.date(1985, 7, 19), dt.date(2022, 5, 1)]
    for i, (name, birth, sex) in enumerate(zip(["王秀英", "李建国", "李小满"], births, "FMF")):
        rows.append([name, ids.make_id_number("620102", birth, 480 + i, sex), "13909310%03d" % i, unit_path,
                     "1901", "是" if i == 0 else "否", "dialysis" if i == 0 else ""])
    rows.append(["张三", "62010219850719001X", "13909310999", unit_path, "1902", "", ""])  # bad check char
    rows.append(["赵四", ids.make_id_number("620102", dt.date(1990, 1, 1), 490, "M"), "1390931", unit_path,
                 "1902", "", ""])  # short phone
    rows.append(["钱五", ids.make_id_number("620102", dt.date(1991, 1, 1), 491, "M"), "13909310555",
                 "城关区/不存在街道/1单元", "1903", "", ""])  # unknown unit
    return rows


def run() -> None:
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from cordon.core import queue
    from cordon.core.actions import do_create_upload
    from cordon.core.models import Upload
    from cordon.places.importer import import_residents

    unit_path = "城关区/皋兰路街道/五泉社区/五泉小区/1号楼/1单元"
    worker = get_user_model().objects.filter(username="community").first()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "社区登记-示例.csv"
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            csv.writer(fh).writerows(demo_rows(unit_path))
        if worker is None:  # no demo accounts: the importer straight away
            report = import_residents(path, actor="demo")
            print(f"Demo import: {report.created} residents added to {unit_path}, {len(report.errors)} bad rows")
            return
        with open(path, "rb") as fh:
            u = do_create_upload(File(fh, name=path.name), kind="residents", actor=worker, reason="demo upload")
    queue.run_now(u.task_id)
    u = Upload.objects.get(pk=u.pk)
    print(f"Demo upload {u.pk} ({u.name}, by {worker.username}): {u.status}, {u.counts.get('created', 0)} residents "
          f"added to {unit_path}, {u.errors} bad rows in its report {u.report}")
