"""Fewer indexes on the orders and placements tables, none on the columns the day-start release writes
(status, released_on, discharged_on), and room on every page for the new row versions (fillfactor 60 on
PostgreSQL), so that releasing an order and discharging its placement are in-place (HOT) updates.
Measured by ``cordon bench contacts``."""

import django.db.models.deletion
from django.db import migrations, models

FILLFACTOR = {"cases_personorder": 60, "cases_placement": 70}


def fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table, ff in FILLFACTOR.items():
            schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {ff})")


def default_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in FILLFACTOR:
            schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0003_created_from_clock_list_index'),
        ('places', '0001_initial'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='personorder',
            name='cases_perso_status_2da735_idx',
        ),
        migrations.RemoveIndex(
            model_name='personorder',
            name='order_community_list',
        ),
        migrations.RemoveIndex(
            model_name='placement',
            name='cases_place_facilit_6b7791_idx',
        ),
        migrations.AlterField(
            model_name='personorder',
            name='arrival',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='cases.arrival'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='building',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='community',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='compound',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='district',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='from_area',
            field=models.ForeignKey(blank=True, db_index=False, help_text='risk area left (spill-over)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='home',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='infection',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='contacts', to='cases.infection'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='label',
            field=models.CharField(max_length=40),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='resident',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='places.resident'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='street',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='unit',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='places.area'),
        ),
        migrations.AlterField(
            model_name='personorder',
            name='via',
            field=models.ForeignKey(blank=True, db_index=False, help_text='the close contact through whom a contact of a contact is linked', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='onward', to='cases.personorder'),
        ),
        migrations.AlterField(
            model_name='placement',
            name='facility',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='placements', to='cases.facility'),
        ),
        migrations.AlterField(
            model_name='placement',
            name='infection',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='placements', to='cases.infection'),
        ),
        migrations.AlterField(
            model_name='placement',
            name='order',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='placements', to='cases.personorder'),
        ),
        migrations.AddIndex(
            model_name='personorder',
            index=models.Index(fields=['district', 'street', 'community', 'free_on', 'id'], name='order_scope_list'),
        ),
        migrations.AddIndex(
            model_name='personorder',
            index=models.Index(fields=['label'], name='order_label'),
        ),
        migrations.AddIndex(
            model_name='personorder',
            index=models.Index(condition=models.Q(('infection__isnull', False)), fields=['infection'], name='order_infection'),
        ),
        migrations.AddIndex(
            model_name='personorder',
            index=models.Index(condition=models.Q(('via__isnull', False)), fields=['via'], name='order_via'),
        ),
        migrations.AddIndex(
            model_name='personorder',
            index=models.Index(condition=models.Q(('arrival__isnull', False)), fields=['arrival'], name='order_arrival'),
        ),
        migrations.AddIndex(
            model_name='personorder',
            index=models.Index(condition=models.Q(('resident__isnull', False)), fields=['resident'], name='order_resident'),
        ),
        migrations.AddIndex(
            model_name='placement',
            index=models.Index(fields=['facility', 'admitted_on'], name='placement_facility_day'),
        ),
        migrations.AddIndex(
            model_name='placement',
            index=models.Index(condition=models.Q(('order__isnull', False)), fields=['order'], name='placement_order'),
        ),
        migrations.AddIndex(
            model_name='placement',
            index=models.Index(condition=models.Q(('infection__isnull', False)), fields=['infection'], name='placement_infection'),
        ),
        migrations.RunPython(fillfactor, default_fillfactor),
    ]
