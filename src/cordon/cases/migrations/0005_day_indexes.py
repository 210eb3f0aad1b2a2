"""Indexes the situation pages and the daily close read cases by (plain SQL on both databases). They were
made by situation 0003/0004 on this app's tables; they belong here (the names are kept, so a database that
has them already is left as it is):

* ``cases_infection (confirmed_on, found, district_id)``: the epi curve's grouped count by day and where found
  is answered from the index alone (no row lookups for 50 k infections);
* ``cases_responsetask (done_at)``: tasks done on a day (the daily close) without scanning every task;
* ``cases_personorder (identified_on)``: people identified on a day. (The release day is not indexed: releasing
  an order must not touch an index, cases 0004.)
"""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0004_lean_indexes"),
    ]

    operations = [
        # a database migrated before situation 0004 may still hold the release-day index
        migrations.RunSQL("DROP INDEX IF EXISTS situation_order_released", migrations.RunSQL.noop),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS situation_infection_day_found ON cases_infection "
            "(confirmed_on, found, district_id)",
            "DROP INDEX IF EXISTS situation_infection_day_found",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS situation_task_done_at ON cases_responsetask (done_at)",
            "DROP INDEX IF EXISTS situation_task_done_at",
        ),
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS situation_order_identified ON cases_personorder (identified_on)",
            "DROP INDEX IF EXISTS situation_order_identified",
        ),
    ]
