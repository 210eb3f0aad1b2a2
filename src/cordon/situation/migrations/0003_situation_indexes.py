"""No longer does anything: the indexes this made on other apps' tables are made by the apps that own
them (cases 0005, same names, ``IF NOT EXISTS``). Kept so the migration history stays whole.

What it did: Indexes the situation pages and the daily close read by (plain SQL on both databases, as 0002):

* ``cases_infection (confirmed_on, found, district_id)``: the epi curve's grouped count by day and where found
  is answered from the index alone (no row lookups for 50 k infections);
* ``cases_responsetask (done_at)``: tasks done on a day (the daily close) without scanning every task;
* ``cases_personorder (identified_on)`` and ``(released_on)``: people identified / released on a day.
"""
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0002_outsideregion_facility_arrival_personorder_checkin_and_more"),
        ("situation", "0002_area_name_index"),
    ]

    operations = []
