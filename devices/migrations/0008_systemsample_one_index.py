"""SystemSample had three indexes on the same columns: the FK's own (device_id), sys_device_time
(device_id, collected_at DESC) and the unique sys_one_per_poll (device_id, collected_at). The
unique one is kept: its constraint needs it, and a btree is read backwards as cheaply as forwards,
so it answers every query the other two did.

EXPLAIN ANALYZE on 1.6 M rows (a year of 30 s samples of one device, a day of 200 more):
before, the planner spread the queries over all three (a 1 h chart: bitmap scan of
sys_device_time; the newest sample: sys_device_time; a 24 h chart and a device's cascade delete:
the FK index, plus a sort for the chart; the rollup's first-row probe per device: sys_device_time
backwards). After, each is one scan of sys_one_per_poll with the same row counts: the 1 h chart a
bitmap scan, the newest sample an index scan backward, the 24 h chart an index-only scan with no
sort, the delete an index scan, the probe an index-only scan. sys_device_time was as large as
the kept index (87 MB there), and every poll's insert maintains one index instead of three.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0007_rollups_of_every_family"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="systemsample",
            name="sys_device_time",
        ),
        migrations.AlterField(
            model_name="systemsample",
            name="device",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="system_samples",
                to="devices.device",
            ),
        ),
    ]
